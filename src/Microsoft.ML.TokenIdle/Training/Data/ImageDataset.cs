using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Labelled images held in memory, [count, C, H, W]: 8-bit pixels that batches are normalised with the
/// per-channel mean and standard deviation (on the 0..1 scale), or values already normalised (a model's
/// input as a float vector column).
/// </summary>
public sealed class ImageDataset
{
    private readonly byte[]? _pixels;
    private readonly float[]? _normalized;

    /// <summary>Creates a dataset; pixel bytes in [count, C, H, W] order.</summary>
    public ImageDataset(byte[] pixels, int[] labels, int channels, int height, int width, int classes, float[] mean, float[] std, IReadOnlyList<string>? classNames = null)
        : this(pixels, null, labels, channels, height, width, classes, mean, std, classNames)
    {
        if (mean.Length != channels || std.Length != channels || std.Any(s => !(s > 0)))
        {
            throw new ArgumentException($"dataset: need {channels} means and positive standard deviations");
        }
    }

    private ImageDataset(byte[]? pixels, float[]? normalized, int[] labels, int channels, int height, int width, int classes, float[] mean, float[] std, IReadOnlyList<string>? classNames)
    {
        var length = pixels?.LongLength ?? normalized!.LongLength;
        if (length != (long)labels.Length * channels * height * width)
        {
            throw new ArgumentException($"dataset: {length} values do not make {labels.Length} images of {channels}x{height}x{width}");
        }

        var bad = Array.FindIndex(labels, l => l < 0 || l >= classes);
        if (bad >= 0)
        {
            throw new ArgumentException($"dataset: label {labels[bad]} of image {bad} is outside [0, {classes})");
        }

        (_pixels, _normalized) = (pixels, normalized);
        Labels = labels;
        (Channels, Height, Width, Classes) = (channels, height, width, classes);
        (Mean, Std) = (mean, std);
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>
    /// Planar images ([C, S, S] bytes each, see <see cref="Imaging.ImageInputFormat"/>) as a dataset for a model
    /// of <paramref name="config"/>'s input, normalised with its mean and standard deviation;
    /// <paramref name="labels"/> null gives all 0 (scoring).
    /// </summary>
    public static ImageDataset ForModel(IReadOnlyList<byte[]> images, int[]? labels, Models.VisionTransformerConfig config, IReadOnlyList<string>? classNames = null)
    {
        var format = config.InputFormat;
        var pixels = new byte[(long)images.Count * format.PlanarLength];
        for (var i = 0; i < images.Count; i++)
        {
            images[i].CopyTo(pixels, (long)i * format.PlanarLength);
        }

        return new ImageDataset(pixels, labels ?? new int[images.Count], format.Channels, format.Size, format.Size, config.NumClasses, format.Mean, format.Std, classNames);
    }

    /// <summary>
    /// Inputs already normalised for a model of <paramref name="config"/>'s input ([C, S, S] floats each), used as
    /// they are; <paramref name="labels"/> null gives all 0 (scoring).
    /// </summary>
    public static ImageDataset Normalized(IReadOnlyList<float[]> inputs, int[]? labels, Models.VisionTransformerConfig config, IReadOnlyList<string>? classNames = null)
    {
        var format = config.InputFormat;
        var values = new float[(long)inputs.Count * format.PlanarLength];
        for (var i = 0; i < inputs.Count; i++)
        {
            inputs[i].CopyTo(values, (long)i * format.PlanarLength);
        }

        return new ImageDataset(null, values, labels ?? new int[inputs.Count], format.Channels, format.Size, format.Size, config.NumClasses, format.Mean, format.Std, classNames);
    }

    /// <summary>Pixel bytes, [count, C, H, W].</summary>
    /// <exception cref="InvalidOperationException">The dataset holds normalised values, not pixels.</exception>
    public byte[] Pixels => _pixels ?? throw new InvalidOperationException("this dataset holds normalised model inputs, not pixels");

    /// <summary>Class index of every image.</summary>
    public int[] Labels { get; }

    /// <summary>Channels.</summary>
    public int Channels { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Per-channel mean on the 0..1 scale.</summary>
    public float[] Mean { get; }

    /// <summary>Per-channel standard deviation on the 0..1 scale.</summary>
    public float[] Std { get; }

    /// <summary>Class names by index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>The images at <paramref name="indices"/> as a normalised float batch [k, C, H, W] on <paramref name="device"/> (default: the CPU).</summary>
    public Tensor Images(IReadOnlyList<int> indices, Device? device = null)
    {
        var shape = new long[] { indices.Count, Channels, Height, Width };
        var size = Channels * Height * Width;
        using var scope = NewDisposeScope();
        Tensor batch;
        if (_normalized is not null)
        {
            batch = tensor(Gather(_normalized, indices, size), shape);
        }
        else
        {
            var mean = tensor(Mean).view(1, Channels, 1, 1);
            var std = tensor(Std).view(1, Channels, 1, 1);
            batch = (tensor(Gather(_pixels!, indices, size), shape).to(float32) / 255f - mean) / std;
        }

        return batch.to(device ?? CPU).MoveToOuterDisposeScope();
    }

    /// <summary>The labels at <paramref name="indices"/>.</summary>
    public int[] LabelsOf(IReadOnlyList<int> indices) => indices.Select(i => Labels[i]).ToArray();

    /// <summary>The same images and labels normalised with another per-channel mean and standard deviation.</summary>
    public ImageDataset WithNormalization(float[] mean, float[] std) => new(Pixels, Labels, Channels, Height, Width, Classes, mean, std, ClassNames);

    /// <summary>The first <paramref name="count"/> images (for smoke runs and tests).</summary>
    public ImageDataset Take(int count) => Select(Enumerable.Range(0, Math.Min(count, Count)).ToArray());

    /// <summary>The images at <paramref name="indices"/>, in that order.</summary>
    public ImageDataset Select(IReadOnlyList<int> indices)
    {
        var size = Channels * Height * Width;
        var labels = indices.Select(i => Labels[i]).ToArray();
        return _normalized is not null
            ? new ImageDataset(null, Gather(_normalized, indices, size), labels, Channels, Height, Width, Classes, Mean, Std, ClassNames)
            : new ImageDataset(Gather(_pixels!, indices, size), null, labels, Channels, Height, Width, Classes, Mean, Std, ClassNames);
    }

    private static T[] Gather<T>(T[] source, IReadOnlyList<int> indices, int size)
    {
        var result = new T[(long)indices.Count * size];
        for (var i = 0; i < indices.Count; i++)
        {
            source.AsSpan((int)((long)indices[i] * size), size).CopyTo(result.AsSpan((int)((long)i * size), size));
        }

        return result;
    }
}
