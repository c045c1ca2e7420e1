namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Some rows of another source (a limit, or one side of a held-out split): its shuffled passes are the other source's
/// passes restricted to these rows, so no row is read twice to make them.
/// </summary>
internal sealed class SubsetImageSource : ImageSource
{
    private readonly ImageSource _inner;
    private readonly HashSet<int> _keys;
    private readonly RowOrder _canonical;

    public SubsetImageSource(ImageSource inner, int[] keys)
        : base(inner.Format, inner.Classes, inner.ClassNames)
    {
        _inner = inner;
        _keys = keys.ToHashSet();
        _canonical = inner.Order(null).Where(_keys.Contains);
    }

    public override int Count => _canonical.Count;

    internal override bool SkipUnreadable => _inner.SkipUnreadable;

    internal override ImageSource Root => _inner.Root;

    internal override string SkipHint => _inner.SkipHint;

    internal override RowOrder Order(int? seed) => seed is null ? _canonical : _inner.Order(seed).Where(_keys.Contains);

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options) => _inner.Open(order, start, window, options);

    internal override void ReportSkipped(string error) => Root.ReportSkipped(error);
}
