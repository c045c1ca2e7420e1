using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Decoded rows kept after their first read when the whole source fits a memory budget (as ML.NET's
/// <c>AppendCacheCheckpoint</c>): later passes read from memory instead of decoding again. A row is kept in the form its
/// first read made: the model's input (planar bytes, or normalised values) or, for a training pass that crops, the
/// decoded source image, which a later pass crops again. A source whose rows at the model's size exceed the budget gets
/// no cache at all, and one whose kept source images outgrow it drops the cache, so memory stays bounded by the budget
/// and the pipeline's window.
/// </summary>
internal sealed class RowCache
{
    private readonly long _budget;
    private object?[]? _rows;
    private long _used;
    private int _filled;

    /// <summary>A cache for <paramref name="count"/> rows of at least <paramref name="rowBytes"/> bytes each, or none when they exceed <paramref name="budgetBytes"/>.</summary>
    public RowCache(int count, long rowBytes, long budgetBytes)
    {
        _budget = budgetBytes;
        if (count > 0 && (long)count * rowBytes <= budgetBytes)
        {
            _rows = new object?[count];
        }
    }

    /// <summary>Whether rows are kept.</summary>
    public bool Enabled => Volatile.Read(ref _rows) is not null;

    /// <summary>Whether every row has been read once (later passes need no decoding).</summary>
    public bool Complete => Volatile.Read(ref _rows) is { } rows && Volatile.Read(ref _filled) == rows.Length;

    /// <summary>The model's input of row <paramref name="key"/> when it is kept in that form.</summary>
    public bool TryGet(int key, int label, out SourceRow row)
    {
        switch (Entry(key))
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

    /// <summary>The decoded source image of row <paramref name="key"/> when it is kept in that form.</summary>
    public PixelImage? Source(int key) => Entry(key) as PixelImage;

    /// <summary>Keeps a successfully read row's input (failures are not kept: they are read, and reported, again).</summary>
    public void Add(SourceRow row)
    {
        if (row.Error is null)
        {
            Keep(row.Key, (object?)row.Pixels ?? row.Values!, row.Pixels?.LongLength ?? 4L * row.Values!.LongLength);
        }
    }

    /// <summary>Keeps row <paramref name="key"/>'s decoded source image (for passes that crop it).</summary>
    public void Add(int key, PixelImage source) => Keep(key, source, source.Pixels.LongLength);

    private object? Entry(int key) => Volatile.Read(ref _rows) is { } rows ? Volatile.Read(ref rows[key]) : null;

    private void Keep(int key, object entry, long bytes)
    {
        if (Volatile.Read(ref _rows) is not { } rows || Interlocked.CompareExchange(ref rows[key], entry, null) is not null)
        {
            return;
        }

        if (Interlocked.Add(ref _used, bytes) > _budget)
        {
            // Source images larger than the model's input outgrew the budget: stream from now on.
            Volatile.Write(ref _rows, null);
            return;
        }

        Interlocked.Increment(ref _filled);
    }
}
