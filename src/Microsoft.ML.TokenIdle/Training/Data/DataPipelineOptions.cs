namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>How training and evaluation read their images: decode workers and how far ahead they run.</summary>
public sealed record DataPipelineOptions
{
    /// <summary>The most decode workers a pipeline takes.</summary>
    public const int MaxWorkers = 256;

    /// <summary>The most batches a pipeline reads ahead.</summary>
    public const int MaxPrefetchBatches = 1024;

    /// <summary>Threads that decode, resize and convert images (default: the cores available). In-memory sources are read without them.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Batches decoded ahead of the model step; resident images stay below (this + 1) × batch size + workers.</summary>
    public int PrefetchBatches { get; init; } = 4;

    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Workers < 1 || Workers > MaxWorkers)
        {
            throw new ArgumentException($"data pipeline: Workers must be in [1, {MaxWorkers}], got {Workers}");
        }

        if (PrefetchBatches < 1 || PrefetchBatches > MaxPrefetchBatches)
        {
            throw new ArgumentException($"data pipeline: PrefetchBatches must be in [1, {MaxPrefetchBatches}], got {PrefetchBatches}");
        }
    }
}
