using System.Numerics.Tensors;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Model inputs read from an image column, in its one form: planar pixel bytes (images) or values already
/// normalised (a float vector column); they become a batch for scoring.
/// </summary>
internal sealed class ModelInputList
{
    private readonly List<byte[]> _pixels = new();
    private readonly List<float[]> _normalized = new();

    /// <summary>Inputs read so far.</summary>
    public int Count => _pixels.Count + _normalized.Count;

    /// <summary>Adds an image as the model's planar bytes.</summary>
    public void Add(byte[] planar) => _pixels.Add(planar);

    /// <summary>Adds an already normalised input.</summary>
    public void Add(float[] normalized) => _normalized.Add(normalized);

    /// <summary>The index of the first input holding NaN or an infinity (only normalised inputs can), or -1.</summary>
    public int FirstNonFinite() => _normalized.FindIndex(HoldsNonFinite);

    /// <summary>Whether <paramref name="values"/> hold a NaN or an infinity.</summary>
    public static bool HoldsNonFinite(float[] values)
    {
        // IndexOfMaxMagnitude returns a NaN's index when there is one, else the largest magnitude's (an infinity when there is one).
        return values.Length > 0 && !float.IsFinite(values[TensorPrimitives.IndexOfMaxMagnitude(values)]);
    }

    /// <summary>The inputs as a batch for a model of <paramref name="config"/>'s input.</summary>
    public ImageBatch ToBatch(VisionTransformerConfig config) => ImageBatch.Of(_pixels, _normalized, null, config.InputFormat);
}
