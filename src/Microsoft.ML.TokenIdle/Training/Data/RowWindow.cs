namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Hands rows from worker threads to one consumer in rank order while holding at most a window of them: a worker
/// waits before reading a row more than <c>capacity</c> ranks ahead of the consumer, so resident memory is bounded
/// by the window, not by the data. When a worker waits for room while the next row is neither ready nor being read
/// (a source whose parallel cursors do not follow the pass's order, or whose shared upstream stalls behind the
/// waiting worker), the window widens instead of deadlocking.
/// </summary>
internal sealed class RowWindow
{
    private readonly object _gate = new();
    private readonly Dictionary<int, SourceRow> _ready = new();
    private readonly HashSet<int> _reading = new();
    private readonly int _end;
    private int _capacity;
    private int _next;
    private int _live;
    private int _waiting;
    private bool _closed;
    private Exception? _fault;
    private long _decoded;
    private long _busyTicks;

    public RowWindow(int start, int end, int capacity, int producers)
        => (_next, _end, _capacity, _live) = (start, end, Math.Max(1, capacity), producers);

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

    /// <summary>Waits until <paramref name="rank"/> is inside the window; false when the consumer has gone.</summary>
    public bool WaitForRoom(int rank)
    {
        lock (_gate)
        {
            while (!_closed && rank >= _next + _capacity)
            {
                _waiting++;
                Monitor.PulseAll(_gate);
                Monitor.Wait(_gate);
                _waiting--;
            }

            if (_closed)
            {
                return false;
            }

            _reading.Add(rank);
            return true;
        }
    }

    /// <summary>Hands over the row at <paramref name="rank"/>, read in <paramref name="busy"/>.</summary>
    public void Put(int rank, SourceRow row, TimeSpan busy)
    {
        lock (_gate)
        {
            _ready[rank] = row;
            _reading.Remove(rank);
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

                // A worker waits for room while nobody reads the row needed next: give it a moment to arrive, then widen.
                var stuck = _waiting > 0 && !_reading.Contains(_next);
                if (!Monitor.Wait(_gate, stuck ? 20 : Timeout.Infinite) && stuck)
                {
                    _capacity *= 2;
                    Monitor.PulseAll(_gate);
                }
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
