namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>How a <see cref="BatchingPredictor"/> queues, batches and scores requests.</summary>
public sealed class BatchingPredictorOptions
{
    /// <summary>
    /// The most requests scored together. Null (the default): the classifier's own scoring batch size
    /// (<see cref="VisionTransformerClassifier.BatchSize"/>), so one batch is one forward pass; a larger value is scored
    /// in several passes of that size.
    /// </summary>
    public int? MaxBatchSize { get; set; }

    /// <summary>
    /// How long the first request of a batch waits for others before the batch is scored, while requests come
    /// concurrently (the previous batch held several, or more arrived while it was scored) (default 5 ms). A full batch
    /// is scored at once, and so is a lone caller's request (waiting would only add to its latency); zero scores
    /// whatever is queued when the scoring thread is free.
    /// </summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The most requests waiting to be scored (default 256). A request beyond it is refused at once with
    /// <see cref="PredictorUnavailableException"/> rather than queued without bound.
    /// </summary>
    public int QueueCapacity { get; set; } = 256;

    /// <summary>libtorch's CPU threads (process-wide; null: leave libtorch's setting, all cores).</summary>
    public int? Threads { get; set; }

    /// <summary>The number format the classifier runs in (null: as the zip was saved).</summary>
    public Precision? Precision { get; set; }

    /// <summary>The CUDA device to score on, as ML.NET's <c>MLContext.GpuDeviceId</c> (null: the CPU).</summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>Score on the CPU when <see cref="GpuDeviceId"/> is set and libtorch has no such device (ML.NET's <c>FallbackToCpu</c>).</summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>
    /// Whether a changed model zip is loaded and swapped in between two batches, as ML.NET's
    /// <c>PredictionEnginePool</c> does with <c>watchForChanges</c> (default true). Replace the file atomically
    /// (write beside it, then rename over it); a zip that does not load is reported and the served model stays.
    /// </summary>
    public bool WatchForChanges { get; set; } = true;

    /// <summary>How often the zip's size and time are compared with the served model's (default 1 s).</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Classes listed per prediction, most probable first (default 3, as <c>tokenidle predict --top</c>).</summary>
    public int TopClasses { get; set; } = 3;

    /// <summary>The largest width × height of a request's image (default <see cref="Imaging.ImageDecoder.DefaultMaxPixels"/>).</summary>
    public long MaxPixels { get; set; } = Imaging.ImageDecoder.DefaultMaxPixels;

    /// <summary>Checks the options; the message names the option and its value.</summary>
    /// <exception cref="ArgumentException">An option is out of its range.</exception>
    internal void Validate()
    {
        static void Check(bool valid, string message)
        {
            if (!valid)
            {
                throw new ArgumentException(message);
            }
        }

        Check(MaxBatchSize is null or >= 1, $"MaxBatchSize must be at least 1, got {MaxBatchSize}");
        Check(MaxWait >= TimeSpan.Zero, $"MaxWait must not be negative, got {MaxWait}");
        Check(QueueCapacity >= 1, $"QueueCapacity must be at least 1, got {QueueCapacity}");
        Check(Threads is null or >= 1, $"Threads must be at least 1, got {Threads}");
        Check(Precision is null || Enum.IsDefined(Precision.Value), $"Precision {Precision} is not one of {string.Join(", ", Enum.GetNames<Precision>())}");
        Check(WatchInterval > TimeSpan.Zero, $"WatchInterval must be positive, got {WatchInterval}");
        Check(TopClasses >= 1, $"TopClasses must be at least 1, got {TopClasses}");
        Check(MaxPixels >= 1, $"MaxPixels must be at least 1, got {MaxPixels}");
    }
}
