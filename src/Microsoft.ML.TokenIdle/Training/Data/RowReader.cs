using System.Diagnostics;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// One pass's rows, from a given rank on, in the pass's order: read on the calling thread (sources already in
/// memory) or by worker threads that run ahead of the consumer within a <see cref="RowWindow"/>. Disposing it
/// stops and joins the workers.
/// </summary>
internal sealed class RowReader : IDisposable
{
    private readonly RowWindow? _window;
    private readonly Thread[] _threads;
    private readonly Func<int, SourceRow>? _inline;
    private readonly int _end;
    private int _next;

    private readonly Action? _cleanup;

    private RowReader(RowWindow? window, Thread[] threads, Func<int, SourceRow>? inline, int start, int end, Action? cleanup = null)
        => (_window, _threads, _inline, _next, _end, _cleanup) = (window, threads, inline, start, end, cleanup);

    /// <summary>Reads rank by rank on the consumer's thread (<paramref name="read"/> takes the rank).</summary>
    public static RowReader Inline(Func<int, SourceRow> read, int start, int end) => new(null, Array.Empty<Thread>(), read, start, end);

    /// <summary>
    /// Workers that each run <paramref name="producer"/> (given the window and the worker's index) until it returns;
    /// a producer puts each rank it reads into the window. <paramref name="cleanup"/> runs once the workers have stopped.
    /// </summary>
    public static RowReader Parallel(int start, int end, int capacity, int workers, Action<RowWindow, int> producer, Action? cleanup = null)
    {
        var window = new RowWindow(start, end, capacity, workers);
        var threads = Enumerable.Range(0, workers).Select(i => new Thread(() =>
        {
            try
            {
                WorkerPriority.Lower();
                producer(window, i);
                window.Done(null);
            }
            catch (Exception e)
            {
                window.Done(e);
            }
        })
        { IsBackground = true, Name = $"tokenidle-data-{i}" }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        return new RowReader(window, threads, null, start, end, cleanup);
    }

    /// <summary>
    /// Workers that claim ranks in increasing order and read each with <paramref name="read"/> (thread-safe; takes the
    /// rank), so the rank the consumer waits for is always being read.
    /// </summary>
    public static RowReader Indexed(Func<int, SourceRow> read, int start, int end, int capacity, int workers)
    {
        return Parallel(start, end, capacity, workers, (window, _) =>
        {
            for (var rank = window.Claim(); rank >= 0; rank = window.Claim())
            {
                if (!window.WaitForRoom(rank))
                {
                    return;
                }

                var watch = Stopwatch.StartNew();
                var row = read(rank);
                window.Put(rank, row, watch.Elapsed);
            }
        });
    }

    /// <summary>Rows read by workers and their reading time (zero when read inline).</summary>
    public (long Rows, TimeSpan Busy) Work => _window?.Work ?? (0, TimeSpan.Zero);

    /// <summary>Workers reading (0: inline).</summary>
    public int Workers => _threads.Length;

    /// <summary>The next row, or false at the end of the pass.</summary>
    public bool TryNext(out SourceRow row)
    {
        if (_window is not null)
        {
            return _window.TryTake(out row);
        }

        if (_next >= _end)
        {
            row = default;
            return false;
        }

        row = _inline!(_next++);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _window?.Close();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _cleanup?.Invoke();
    }
}
