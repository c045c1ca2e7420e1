using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// The entry point of pipelines (ML.NET's <c>MLContext</c>): catalogs of data operations, transforms,
/// trainers, evaluation and model persistence, a seed for everything random, device settings and a log.
/// </summary>
public sealed class MLContext
{
    private readonly Random? _seeded;

    /// <summary>A context; with a <paramref name="seed"/>, shuffles, splits and training are repeatable.</summary>
    public MLContext(int? seed = null)
    {
        Seed = seed;
        _seeded = seed is { } s ? new Random(s) : null;
        Data = new DataOperationsCatalog(this);
        Transforms = new TransformsCatalog(this);
        MulticlassClassification = new MulticlassClassificationCatalog(this);
        Model = new ModelOperationsCatalog(this);
    }

    /// <summary>Log messages of every component (filter on <see cref="LoggingEventArgs.Source"/>).</summary>
    public event EventHandler<LoggingEventArgs>? Log;

    /// <summary>The seed given at construction (null: not repeatable).</summary>
    public int? Seed { get; }

    /// <summary>Loading, enumerating and splitting data.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>Data transforms.</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Multiclass trainers and evaluation.</summary>
    public MulticlassClassificationCatalog MulticlassClassification { get; }

    /// <summary>Saving, loading and prediction engines.</summary>
    public ModelOperationsCatalog Model { get; }

    /// <summary>The GPU to train and score on; null for the CPU.</summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>Whether to use the CPU (with a warning) when <see cref="GpuDeviceId"/> is set and no GPU can be used.</summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>Where components put temporary files (checkpoints during training).</summary>
    public string TempFilePath { get; set; } = Path.GetTempPath();

    /// <summary>Writes a message to <see cref="Log"/>.</summary>
    internal void WriteLog(string source, ChannelMessageKind kind, string message) => Log?.Invoke(this, new LoggingEventArgs(message, kind, source));

    /// <summary>
    /// Checks the device settings as ML.NET's TorchSharp trainers do. This build has only the CPU
    /// backend, so a GPU request fails unless <see cref="FallbackToCpu"/> is set.
    /// </summary>
    internal void SelectDevice(string source)
    {
        if (GpuDeviceId is not { } id)
        {
            return;
        }

        if (!FallbackToCpu)
        {
            throw new InvalidOperationException($"Fallback to CPU is false but no GPU detected (GpuDeviceId = {id}; this build has no CUDA backend)");
        }

        WriteLog(source, ChannelMessageKind.Warning, $"GPU {id} requested but no GPU can be used; running on the CPU");
    }

    /// <summary>A random source for an operation: from its own seed, else the next value of the context's seeded sequence, else unseeded.</summary>
    internal Random CreateRandom(int? seed)
    {
        if (seed is { } s)
        {
            return new Random(s);
        }

        if (_seeded is null)
        {
            return new Random();
        }

        lock (_seeded)
        {
            return new Random(_seeded.Next());
        }
    }
}
