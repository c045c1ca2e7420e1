namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Rows of another source decoded once and kept in memory at the model's size (planar bytes, or normalised inputs),
/// because all of them fit the cache budget: read without workers, shuffled as seeded permutations of all rows.
/// </summary>
internal sealed class CachedImageSource : ImageSource
{
    private readonly object[] _rows;
    private readonly int[] _labels;
    private readonly int _skippedWhileReading;

    /// <summary>Reads every readable row of <paramref name="source"/>'s canonical pass (unreadable ones are reported or end the read, as the source says).</summary>
    public CachedImageSource(ImageSource source, DataPipelineOptions options)
        : base(source.Format, source.Classes, source.ClassNames)
    {
        var rows = new List<object>();
        var labels = new List<int>();
        using (var reader = new BatchReader(source, source.Order(null), 0, 64, dropLast: false, options))
        {
            while (reader.NextRow() is { } row)
            {
                rows.Add((object?)row.Pixels ?? row.Values!);
                labels.Add(row.Label);
            }
        }

        (_rows, _labels) = (rows.ToArray(), labels.ToArray());
        _skippedWhileReading = source.SkippedCount;
    }

    /// <inheritdoc/>
    public override int Count => _rows.Length;

    /// <summary>Rows of the source skipped as unreadable when it was read.</summary>
    public override int SkippedCount => _skippedWhileReading;

    internal override RowOrder Order(int? seed) => RowOrder.Permutation(Count, seed, _labels);

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options)
        => RowReader.Inline(rank => _rows[order.Keys[rank]] is byte[] pixels
            ? new SourceRow(order.Keys[rank], order.Labels[rank], pixels, null, null)
            : new SourceRow(order.Keys[rank], order.Labels[rank], null, (float[])_rows[order.Keys[rank]], null), start, order.Count);
}
