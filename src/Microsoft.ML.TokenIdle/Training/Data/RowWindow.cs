namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Hands rows from worker threads to one consumer in rank order while holding at most a window of them: a worker
/// waits before reading a row <c>capacity</c> or more ranks ahead of the consumer, so resident memory is bounded by
/// the window, not by the data. Readers arrange that the row the consumer waits for is never behind a waiting worker.
/// </summary>
internal sealed class RowWindow
{
    private readonly object _gate = new();
    private readonly Dictionary<int, SourceRow> _ready = new();
    private readonly int _end;
    private readonly int _capacity;
    private int _next;
    private int _claimed;
    private int _live;
    private bool _closed;
    private Exception? _fault;
    private long _decoded;
    private long _busyTicks;

    public RowWindow(int start, int end, int capacity, int producers)
        => (_next, _claimed, _end, _capacity, _live) = (start, start, end, Math.Max(1, capacity), producers);

    /// <summary>Rows read by the workers so far, and the time they spent reading them (all workers together).</summary>
    public (long Rows, TimeSpan Busy) Work
    {
        get
        {
            lock (_gate)
            {
                return (_decoded, TimeSpan.FromTicks(_busyTicks));
            }
        }
    }

    /// <summary>Whether the consumer has gone (workers stop).</summary>
    public bool Closed => Volatile.Read(ref _closed);

    /// <summary>The next rank for a worker that reads ranks in increasing order, or -1 when all are taken.</summary>
    public int Claim()
    {
        lock (_gate)
        {
            return _claimed < _end ? _claimed++ : -1;
        }
    }

    /// <summary>Waits until <paramref name="rank"/> is inside the window; false when the consumer has gone.</summary>
    public bool WaitForRoom(int rank)
    {
        lock (_gate)
        {
            while (!_closed && rank >= _next + _capacity)
            {
                Monitor.Wait(_gate);
            }

            return !_closed;
        }
    }

    /// <summary>Hands over the row at <paramref name="rank"/>, read in <paramref name="busy"/>.</summary>
    /// <exception cref="InvalidDataException">The rank was handed over before (a source gave two rows the same identity).</exception>
    public void Put(int rank, SourceRow row, TimeSpan busy)
    {
        lock (_gate)
        {
            if (rank < _next || !_ready.TryAdd(rank, row))
            {
                throw new InvalidDataException($"row {rank} of the pass was read twice: the data gives two rows the same row id");
            }

            _decoded++;
            _busyTicks += busy.Ticks;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>A worker has finished (<paramref name="fault"/>: with an error that ends the pass).</summary>
    public void Done(Exception? fault)
    {
        lock (_gate)
        {
            _live--;
            _fault ??= fault;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The next row in rank order, or false at the end of the pass.</summary>
    public bool TryTake(out SourceRow row)
    {
        lock (_gate)
        {
            if (_next >= _end)
            {
                row = default;
                return false;
            }

            while (!_ready.Remove(_next, out row))
            {
                if (_fault is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_fault);
                }

                if (_live == 0)
                {
                    throw new InvalidDataException($"the data ended at row {_next} of a pass of {_end}: it changed while being read");
                }

                Monitor.Wait(_gate);
            }

            _next++;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Releases waiting workers: the consumer reads no more.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
