using Microsoft.ML.TokenIdle.Imaging;
using TorchSharp;
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

    /// <summary>Whether the batch holds inputs given already normalised (a float vector column), not pixels.</summary>
    public bool HoldsValues => _values is not null;

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

    /// <summary>
    /// The normalised float batch [B, C, S, S] on <paramref name="device"/>: bytes are moved first (a quarter of the
    /// floats' size) and normalised there, per channel, as x·(1/(255·std)) − mean/std with scalars.
    /// </summary>
    public Tensor ToTensor(Device device)
    {
        var f = Format;
        var shape = new long[] { Count, f.Channels, f.Size, f.Size };
        using var scope = NewDisposeScope();
        if (_values is not null)
        {
            return ToDevice(tensor(_values, shape, device: CPU), device).MoveToOuterDisposeScope();
        }

        var images = ToDevice(tensor(_pixels!, shape, device: CPU), device).to_type(float32);
        for (var c = 0; c < f.Channels; c++)
        {
            images[.., c].mul_(1 / (255 * f.Std[c])).add_(-f.Mean[c] / f.Std[c]);
        }

        return images.MoveToOuterDisposeScope();
    }

    /// <summary>The class indices as an int64 tensor on <paramref name="device"/>.</summary>
    public Tensor LabelTensor(Device device) => ToDevice(tensor(Labels.Select(l => (long)l).ToArray(), dtype: int64, device: CPU), device);

    // A host tensor on the device: on a GPU through pinned memory, so the copy need not block the host.
    private static Tensor ToDevice(Tensor host, Device device) => device.type switch
    {
        DeviceType.CPU => host,
        DeviceType.CUDA => host.pin_memory().to(device, non_blocking: true),
        _ => host.to(device),
    };
}
