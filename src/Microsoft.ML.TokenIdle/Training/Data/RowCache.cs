namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Decoded rows kept after their first read when the whole source fits a memory budget (as ML.NET's
/// <c>AppendCacheCheckpoint</c>): later passes read from memory instead of decoding again. A source larger than the
/// budget gets no cache at all, so memory stays bounded by the pipeline's window.
/// </summary>
internal sealed class RowCache
{
    private readonly object?[]? _rows;
    private int _filled;

    /// <summary>A cache for <paramref name="count"/> rows of <paramref name="rowBytes"/> bytes each, or none when they exceed <paramref name="budgetBytes"/>.</summary>
    public RowCache(int count, long rowBytes, long budgetBytes)
    {
        if (count > 0 && (long)count * rowBytes <= budgetBytes)
        {
            _rows = new object?[count];
        }
    }

    /// <summary>Whether rows are kept.</summary>
    public bool Enabled => _rows is not null;

    /// <summary>Whether every row has been read once (later passes need no decoding).</summary>
    public bool Complete => _rows is not null && Volatile.Read(ref _filled) == _rows.Length;

    /// <summary>The cached row for <paramref name="key"/>, if any.</summary>
    public bool TryGet(int key, int label, out SourceRow row)
    {
        switch (_rows is null ? null : Volatile.Read(ref _rows[key]))
        {
            case byte[] pixels:
                row = new SourceRow(key, label, pixels, null, null);
                return true;
            case float[] values:
                row = new SourceRow(key, label, null, values, null);
                return true;
            default:
                row = default;
                return false;
        }
    }

    /// <summary>Keeps a successfully read row (failures are not kept: they are read, and reported, again).</summary>
    public void Add(SourceRow row)
    {
        if (_rows is null || row.Error is not null || Interlocked.CompareExchange(ref _rows[row.Key], (object?)row.Pixels ?? row.Values, null) is not null)
        {
            return;
        }

        Interlocked.Increment(ref _filled);
    }
}
