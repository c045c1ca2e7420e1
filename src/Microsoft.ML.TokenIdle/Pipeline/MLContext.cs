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
    }

    /// <summary>The seed given at construction (null: not repeatable).</summary>
    public int? Seed { get; }

    /// <summary>Loading, enumerating and splitting data.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>Data transforms.</summary>
    public TransformsCatalog Transforms { get; }

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
