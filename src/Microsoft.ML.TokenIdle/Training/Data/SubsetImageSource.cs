namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Some rows of another source (a limit, or one side of a held-out split), read through it: a shuffled pass is a seeded
/// permutation of these rows, exactly as if they were a source of their own.
/// </summary>
internal sealed class SubsetImageSource : ImageSource
{
    private readonly ImageSource _inner;
    private readonly RowOrder _canonical;

    public SubsetImageSource(ImageSource inner, int[] keys)
        : base(inner.Format, inner.Classes, inner.ClassNames)
    {
        _inner = inner;
        var kept = keys.ToHashSet();
        _canonical = inner.Order(null).Where(kept.Contains);
    }

    public override int Count => _canonical.Count;

    internal override bool SkipUnreadable => _inner.SkipUnreadable;

    internal override ImageSource Root => _inner.Root;

    internal override string SkipHint => _inner.SkipHint;

    internal override RowOrder Order(int? seed)
    {
        var order = RowOrder.Permutation(Count, seed, _canonical.Labels);
        return new RowOrder(order.Keys.Select(i => _canonical.Keys[i]).ToArray(), order.Labels);
    }

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options, RowAugmentation? augmentation = null) => _inner.Open(order, start, window, options, augmentation);

    internal override void ReportSkipped(string error) => Root.ReportSkipped(error);
}
