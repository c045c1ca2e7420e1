using System.Diagnostics;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Batches of one pass over an <see cref="ImageSource"/>, assembled in the pass's order from its
/// <see cref="RowReader"/> while the workers decode the next ones. An unreadable row ends the pass with its error
/// (naming the file or row), or, where the source skips unreadable rows, is reported once and skipped. Tracks the time
/// the consumer waited for data.
/// </summary>
internal sealed class BatchReader : IDisposable
{
    private readonly ImageSource _source;
    private readonly RowReader _reader;
    private readonly int _batchSize;
    private readonly bool _dropLast;
    private readonly Stopwatch _waiting = new();

    /// <summary>Starts reading <paramref name="order"/> from rank <paramref name="start"/> in batches of <paramref name="batchSize"/>, each row augmented by <paramref name="augmentation"/> when given (training).</summary>
    public BatchReader(ImageSource source, RowOrder order, int start, int batchSize, bool dropLast, DataPipelineOptions options, RowAugmentation? augmentation = null)
    {
        options.Validate();
        (_source, _batchSize, _dropLast, Consumed) = (source, batchSize, dropLast, start);
        _reader = source.Open(order, start, batchSize * options.PrefetchBatches, options, augmentation);
    }

    /// <summary>Ranks of the pass consumed so far (skipped rows included): where a resumed pass starts.</summary>
    public int Consumed { get; private set; }

    /// <summary>Time spent waiting for rows.</summary>
    public TimeSpan Waited => _waiting.Elapsed;

    /// <summary>Images per second the workers decode, measured over their busy time (null: read in memory, or none yet).</summary>
    public double? DecodeRate
    {
        get
        {
            var (rows, busy) = _reader.Work;
            return rows == 0 || busy <= TimeSpan.Zero ? null : rows * _reader.Workers / busy.TotalSeconds;
        }
    }

    /// <summary>The next batch, or null when the pass has no (complete, when dropping the last) batch left.</summary>
    public ImageBatch? Next()
    {
        var pixels = new List<byte[]>(_batchSize);
        var values = new List<float[]>();
        var labels = new List<int>(_batchSize);
        while (labels.Count < _batchSize && NextRow() is { } row)
        {
            if (row.Pixels is { } p)
            {
                pixels.Add(p);
            }
            else
            {
                values.Add(row.Values!);
            }

            labels.Add(row.Label);
        }

        return labels.Count == 0 || (_dropLast && labels.Count < _batchSize) ? null : ImageBatch.Of(pixels, values, labels.ToArray(), _source.Format);
    }

    /// <summary>The next readable row, or null at the end of the pass.</summary>
    /// <exception cref="InvalidDataException">A row cannot be read and the source does not skip such rows.</exception>
    public SourceRow? NextRow()
    {
        while (true)
        {
            _waiting.Start();
            var more = _reader.TryNext(out var row);
            _waiting.Stop();
            if (!more)
            {
                return null;
            }

            Consumed++;
            if (row.Error is not { } error)
            {
                return row;
            }

            if (!_source.SkipUnreadable)
            {
                throw new InvalidDataException($"{error} ({_source.SkipHint})");
            }

            if (_source.MarkSkipped(row.Key))
            {
                _source.ReportSkipped(error);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _reader.Dispose();
}
