using System.Diagnostics;
using Microsoft.ML.TokenIdle.Engine;
using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>
/// Scores images with a model zip for many concurrent callers: requests wait in a bounded queue and are scored
/// together — up to <see cref="BatchingPredictorOptions.MaxBatchSize"/>, or once the first has waited
/// <see cref="BatchingPredictorOptions.MaxWait"/> while requests come concurrently (a lone caller's request is scored
/// at once) — in one pass of the zip's pipeline on a dedicated scoring thread,
/// so request threads never run libtorch (its threads are not oversubscribed) and a ViT does its work in batches.
/// Thread-safe; one instance per model in a process (an ASP.NET Core app registers it with
/// <c>AddTokenIdlePredictor</c>). A changed zip is loaded beside the served one and swapped in between two batches;
/// the old model is disposed, no request fails. Dispose it to stop: queued requests are refused, native memory freed.
/// </summary>
public sealed class BatchingPredictor : IDisposable
{
    private static readonly TimeSpan RetryWhenFull = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryWhenNotLoaded = TimeSpan.FromSeconds(5);

    private readonly BatchingPredictorOptions _options;
    private readonly object _gate = new();
    private readonly Queue<Request> _queue = new();
    private readonly Thread _scoring;
    private readonly ManualResetEventSlim _started = new();
    private readonly DirectoryInfo _imageFolder;
    private readonly Timer? _watcher;
    private ServedModel? _served;
    private ServedModel? _pending;
    private FileSignature _failedSignature;
    private string? _loadError;
    private bool _stopping;

    // Whether requests come together (the last batch held several, or more came while it was scored): only then does a
    // batch wait for others. It starts true: a server under load from its first second batches from its first batch.
    private bool _concurrent = true;
    private long _scored, _batches, _largestBatch, _rejected, _canceled, _failed, _reloads;

    /// <summary>
    /// Loads <paramref name="modelPath"/> on the scoring thread and starts serving; returns once the first load has
    /// ended (<see cref="IsReady"/> says whether it succeeded; a zip that fails is retried when it changes).
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of its range.</exception>
    public BatchingPredictor(string modelPath, BatchingPredictorOptions? options = null)
    {
        _options = options ?? new BatchingPredictorOptions();
        _options.Validate();
        ModelPath = Path.GetFullPath(modelPath);
        _imageFolder = Directory.CreateTempSubdirectory("tokenidle-serving-");
        _scoring = new Thread(Run) { IsBackground = true, Name = "TokenIdle scoring" };
        _scoring.Start();
        _started.Wait();
        if (_options.WatchForChanges)
        {
            _watcher = new Timer(_ => Watch(), null, _options.WatchInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The model zip served (full path).</summary>
    public string ModelPath { get; }

    /// <summary>Whether a model is loaded and requests are scored.</summary>
    public bool IsReady => Newest is not null;

    /// <summary>Why the zip could not be loaded, when it could not (null once a model is served).</summary>
    public string? LoadError => Volatile.Read(ref _loadError);

    /// <summary>The served model's class names, in the order of its scores (empty while none is loaded).</summary>
    public IReadOnlyList<string> ClassNames => Newest?.Classifier.ClassNames ?? Array.Empty<string>();

    /// <summary>The model the next batch uses: one loaded and waiting to be swapped in, else the served one.</summary>
    private ServedModel? Newest => Volatile.Read(ref _pending) ?? Volatile.Read(ref _served);

    /// <summary>What the predictor has done so far.</summary>
    public PredictorStatistics Statistics
    {
        get
        {
            int queued;
            lock (_gate)
            {
                queued = _queue.Count;
            }

            return new PredictorStatistics(Interlocked.Read(ref _scored), Interlocked.Read(ref _batches), Interlocked.Read(ref _largestBatch), Interlocked.Read(ref _rejected),
                Interlocked.Read(ref _canceled), Interlocked.Read(ref _failed), Interlocked.Read(ref _reloads), queued);
        }
    }

    /// <summary>
    /// Predicts the class of one encoded image (PNG, JPEG, or any format ML.NET's <c>LoadImages</c> reads). The image is
    /// decoded once here, so a file that is not an image fails alone, before it reaches a batch. Refusals come as the
    /// task's exception, never thrown by the call.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a readable image, or one over <see cref="BatchingPredictorOptions.MaxPixels"/>.</exception>
    /// <exception cref="PredictorUnavailableException">The queue is full, or no model is loaded.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was canceled before the image was scored.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public Task<ImagePrediction> PredictAsync(byte[] image, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (cancellation.IsCancellationRequested)
        {
            return Task.FromCanceled<ImagePrediction>(cancellation);
        }

        var request = new Request(image, cancellation);
        try
        {
            ImageDecoder.Decode(image, "request body", _options.MaxPixels);
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_stopping, this);
                if (Newest is null)
                {
                    Interlocked.Increment(ref _failed);
                    throw new PredictorUnavailableException($"no model is loaded: {_loadError}", RetryWhenNotLoaded);
                }

                if (_queue.Count >= _options.QueueCapacity && RemoveCompleted() >= _options.QueueCapacity)
                {
                    Interlocked.Increment(ref _rejected);
                    throw new PredictorUnavailableException($"the queue is full ({_options.QueueCapacity} requests wait to be scored)", RetryWhenFull);
                }

                _queue.Enqueue(request);
                Monitor.Pulse(_gate);
            }
        }
        catch (Exception e) when (e is InvalidDataException or PredictorUnavailableException or ObjectDisposedException)
        {
            return Task.FromException<ImagePrediction>(e);
        }

        request.ListenForCancellation(() =>
        {
            Interlocked.Increment(ref _canceled);
            lock (_gate)
            {
                // The scoring thread drops it from the queue now rather than when a batch takes it: it no longer counts against the bound.
                Monitor.PulseAll(_gate);
            }
        });
        return request.Completion.Task;
    }

    /// <summary>Stops the scoring thread after the batch it scores, refuses what is queued, frees the models and the image folder.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        if (_watcher is not null)
        {
            using var stopped = new ManualResetEvent(false);
            _watcher.Dispose(stopped);
            stopped.WaitOne();
        }

        _scoring.Join();
        foreach (var request in _queue)
        {
            request.Fail(new ObjectDisposedException(nameof(BatchingPredictor), "the predictor was disposed before the request was scored"));
        }

        _queue.Clear();
        _served?.Dispose();
        _pending?.Dispose();
        _started.Dispose();
        _imageFolder.Delete(recursive: true);
    }

    private void Run()
    {
        try
        {
            // On this thread: with OpenMP, libtorch's thread count is the calling thread's setting.
            if (_options.Threads is { } threads)
            {
                TorchEngine.SetThreads(threads);
            }

            _served = TryLoad();
        }
        catch (InvalidOperationException e)
        {
            // libtorch could not load: the load fails for the same reason, said once.
            _loadError = e.Message;
        }
        finally
        {
            _started.Set();
        }

        while (NextBatch() is { } batch)
        {
            SwapInPending();
            Score(batch);
        }
    }

    /// <summary>The next requests to score, or null when the predictor stops.</summary>
    private List<Request>? NextBatch()
    {
        var most = _options.MaxBatchSize ?? Volatile.Read(ref _served)?.Classifier.BatchSize ?? 1;
        lock (_gate)
        {
            while (RemoveCompleted() == 0 && !_stopping)
            {
                Monitor.Wait(_gate);
            }

            // A lone client's request is scored at once: waiting would only add MaxWait to its latency.
            var wait = _concurrent || _queue.Count > 1 ? _options.MaxWait : TimeSpan.Zero;
            var deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
            while (RemoveCompleted() < most && !_stopping)
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                Monitor.Wait(_gate, left);
            }

            if (_stopping)
            {
                return null;
            }

            var batch = new List<Request>(Math.Min(most, _queue.Count));
            while (batch.Count < most && _queue.TryDequeue(out var request))
            {
                batch.Add(request);
            }

            return batch;
        }
    }

    /// <summary>Drops the requests whose callers went away from the queue (under the lock); returns how many wait.</summary>
    private int RemoveCompleted()
    {
        if (_queue.Any(r => r.Completion.Task.IsCompleted))
        {
            var waiting = _queue.Where(r => !r.Completion.Task.IsCompleted).ToList();
            _queue.Clear();
            waiting.ForEach(_queue.Enqueue);
        }

        return _queue.Count;
    }

    private void Score(List<Request> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var served = _served;
        if (served is null)
        {
            Fail(batch, new PredictorUnavailableException($"no model is loaded: {_loadError}", RetryWhenNotLoaded));
            return;
        }

        try
        {
            Answer(batch, served.Score(batch.Select(r => r.Image).ToList()), served);
        }
        catch (Exception e) when (batch.Count > 1 && e is not OutOfMemoryException)
        {
            // One request's failure must not fail the others: score each alone.
            foreach (var request in batch)
            {
                Score(new List<Request> { request });
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fail(batch, e);
        }
    }

    /// <summary>Before a batch's callers hear back (so that their next requests do not count): whether requests come together.</summary>
    private void NoteConcurrency(int batchSize)
    {
        lock (_gate)
        {
            _concurrent = batchSize > 1 || _queue.Count > 0;
        }
    }

    /// <summary>Counts the batch, then answers its callers: a caller that reads <see cref="Statistics"/> after its answer sees it counted.</summary>
    private void Answer(List<Request> batch, float[][] probabilities, ServedModel served)
    {
        NoteConcurrency(batch.Count);
        Interlocked.Increment(ref _batches);
        InterlockedMax(ref _largestBatch, batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var prediction = ImagePrediction.From(probabilities[i], served.Classifier.ClassNames, Math.Min(_options.TopClasses, served.Classifier.ClassNames.Count));
            Interlocked.Increment(ref _scored);
            if (!batch[i].Completion.TrySetResult(prediction))
            {
                // Its caller went away while the batch was scored.
                Interlocked.Decrement(ref _scored);
            }
        }
    }

    private void Fail(List<Request> batch, Exception error)
    {
        NoteConcurrency(batch.Count);
        foreach (var request in batch)
        {
            Interlocked.Increment(ref _failed);
            if (!request.Fail(error))
            {
                Interlocked.Decrement(ref _failed);
            }
        }
    }

    /// <summary>Between two batches: the model the watcher loaded replaces the served one, which no request uses any more.</summary>
    private void SwapInPending()
    {
        ServedModel? old;
        lock (_gate)
        {
            if (_pending is null)
            {
                return;
            }

            old = _served;
            _served = _pending;
            _pending = null;
        }

        old?.Dispose();
        Interlocked.Increment(ref _reloads);
    }

    /// <summary>The watcher's tick: loads the zip when its size or time differ from the served model's (and from the last failed load's).</summary>
    private void Watch()
    {
        try
        {
            var now = FileSignature.Of(ModelPath);
            if (now.Length >= 0 && now != Newest?.Signature && now != _failedSignature && TryLoad() is { } loaded)
            {
                lock (_gate)
                {
                    if (_stopping)
                    {
                        loaded.Dispose();
                        return;
                    }

                    var replaced = _pending;
                    _pending = loaded;
                    replaced?.Dispose();
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                if (!_stopping)
                {
                    _watcher!.Change(_options.WatchInterval, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>The zip loaded, or null with <see cref="LoadError"/> set.</summary>
    private ServedModel? TryLoad()
    {
        var signature = FileSignature.Of(ModelPath);
        try
        {
            var loaded = ServedModel.Load(ModelPath, _options, _imageFolder.FullName);
            Volatile.Write(ref _loadError, null);
            return loaded;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _failedSignature = signature;
            Volatile.Write(ref _loadError, $"'{ModelPath}': {Components.TransformerSteps.Reason(e).Message}");
            return null;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var found && found != seen)
        {
            seen = found;
        }
    }

    /// <summary>One caller's image and the task it awaits.</summary>
    private sealed class Request(byte[] image, CancellationToken cancellation)
    {
        public byte[] Image { get; } = image;

        public TaskCompletionSource<ImagePrediction> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancels the task when the caller's token fires first (the scoring thread then skips the request).</summary>
        public void ListenForCancellation(Action counted)
        {
            if (!cancellation.CanBeCanceled)
            {
                return;
            }

            var registration = cancellation.Register(() =>
            {
                if (Completion.TrySetCanceled(cancellation))
                {
                    counted();
                }
            });
            Completion.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        public bool Fail(Exception error) => Completion.TrySetException(error);
    }
}
