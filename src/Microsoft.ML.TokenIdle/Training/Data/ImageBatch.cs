using Microsoft.ML.TokenIdle.Imaging;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// A batch on the host as the pipeline assembles it: planar pixel bytes [B, C, S, S] (normalised on the device with the
/// format's mean and std) or inputs already normalised, with their class indices. The one place images become the
/// model's input tensor, for training, evaluation, scoring and pictures alike.
/// </summary>
internal sealed class ImageBatch
{
    private readonly byte[]? _pixels;
    private readonly float[]? _values;

    private ImageBatch(byte[]? pixels, float[]? values, int[] labels, ImageInputFormat format)
        => (_pixels, _values, Labels, Format) = (pixels, values, labels, format);

    /// <summary>Class index of each image.</summary>
    public int[] Labels { get; }

    /// <summary>The input the images are for.</summary>
    public ImageInputFormat Format { get; }

    /// <summary>Images in the batch.</summary>
    public int Count => Labels.Length;

    /// <summary>A batch of planar images ([C, S, S] bytes each) or of normalised inputs ([C, S, S] floats each); labels null: all 0 (scoring).</summary>
    public static ImageBatch Of(IReadOnlyList<byte[]> pixels, IReadOnlyList<float[]> values, int[]? labels, ImageInputFormat format)
    {
        if (pixels.Count > 0 && values.Count > 0)
        {
            throw new ArgumentException("a batch holds pixels or normalised inputs, not both");
        }

        var length = format.PlanarLength;
        var count = pixels.Count + values.Count;
        labels ??= new int[count];
        if (labels.Length != count)
        {
            throw new ArgumentException($"a batch of {count} images has {labels.Length} labels");
        }

        if (values.Count > 0)
        {
            var flat = new float[(long)count * length];
            for (var i = 0; i < count; i++)
            {
                values[i].AsSpan().CopyTo(flat.AsSpan(i * length, length));
            }

            return new ImageBatch(null, flat, labels, format);
        }

        var bytes = new byte[(long)count * length];
        for (var i = 0; i < count; i++)
        {
            pixels[i].AsSpan().CopyTo(bytes.AsSpan(i * length, length));
        }

        return new ImageBatch(bytes, null, labels, format);
    }

    /// <summary>The normalised float batch [B, C, S, S] on <paramref name="device"/>: bytes are moved first and converted there.</summary>
    public Tensor ToTensor(Device device)
    {
        var f = Format;
        var shape = new long[] { Count, f.Channels, f.Size, f.Size };
        using var scope = NewDisposeScope();
        if (_values is not null)
        {
            return tensor(_values, shape).to(device).MoveToOuterDisposeScope();
        }

        var mean = tensor(f.Mean).view(1, f.Channels, 1, 1).to(device);
        var std = tensor(f.Std).view(1, f.Channels, 1, 1).to(device);
        return ((tensor(_pixels!, shape).to(device).to(float32) / 255f - mean) / std).MoveToOuterDisposeScope();
    }

    /// <summary>The class indices as an int64 tensor on <paramref name="device"/>.</summary>
    public Tensor LabelTensor(Device device) => tensor(Labels.Select(l => (long)l).ToArray(), dtype: int64, device: device);
}
