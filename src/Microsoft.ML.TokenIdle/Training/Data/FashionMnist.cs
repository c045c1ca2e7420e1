using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Fashion-MNIST from the IDX files of Debian's <c>dataset-fashion-mnist</c> package
/// (<c>/usr/share/datasets/fashion-mnist</c>, or <c>TOKENIDLE_FASHION_MNIST</c>), 28×28 grey images
/// zero-padded to 32×32 so that patch 4 tiles them, normalised with the training split's mean 0.2860
/// and standard deviation 0.3530.
/// </summary>
public static class FashionMnist
{
    /// <summary>The package's folder.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The ten classes in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = new[] { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    /// <summary>Loads the <c>train</c> or <c>test</c> split.</summary>
    /// <exception cref="FileNotFoundException">The files are missing; the message says which package installs them.</exception>
    public static ImageDataset Load(string split, string? folder = null, int size = 32)
    {
        var prefix = split switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new ArgumentException($"Fashion-MNIST has the splits 'train' and 'test', not '{split}'"),
        };
        folder ??= Environment.GetEnvironmentVariable("TOKENIDLE_FASHION_MNIST") is { Length: > 0 } env ? env : DebianFolder;
        var images = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz");
        var labels = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        if (!File.Exists(images) || !File.Exists(labels))
        {
            throw new FileNotFoundException($"Fashion-MNIST '{split}' files not found in '{folder}': install them with 'apt-get install dataset-fashion-mnist' (or set TOKENIDLE_FASHION_MNIST)", images);
        }

        var (shape, pixels) = IdxFile.ReadBytes(images);
        var (labelShape, labelBytes) = IdxFile.ReadBytes(labels);
        if (shape.Length != 3 || labelShape.Length != 1 || labelShape[0] != shape[0])
        {
            throw new InvalidDataException($"'{images}' [{string.Join(",", shape)}] and '{labels}' [{string.Join(",", labelShape)}] are not matching image and label files");
        }

        if (size < Math.Max(shape[1], shape[2]))
        {
            throw new ArgumentException($"Fashion-MNIST images are {shape[1]}x{shape[2]}; a size of {size} would cut them");
        }

        var (count, h, w) = (shape[0], shape[1], shape[2]);
        var padded = new byte[(long)count * size * size];
        var (top, left) = ((size - h) / 2, (size - w) / 2);
        for (var i = 0; i < count; i++)
        {
            for (var y = 0; y < h; y++)
            {
                pixels.AsSpan((i * h + y) * w, w).CopyTo(padded.AsSpan((i * size + top + y) * size + left, w));
            }
        }

        return new ImageDataset(padded, labelBytes.Select(b => (int)b).ToArray(), new Imaging.ImageInputFormat(size, 1, new[] { 0.2860f }, new[] { 0.3530f }), 10, ClassNames);
    }
}
