using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Labelled images already in memory as planar pixel bytes [count, C, S, S] (Fashion-MNIST's IDX files, small
/// generated sets): an <see cref="ImageSource"/> read without decode workers. Shuffled passes are seeded
/// permutations of all rows.
/// </summary>
public sealed class ImageDataset : ImageSource
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Creates a dataset; <paramref name="pixels"/> in [count, C, S, S] order for <paramref name="format"/>.</summary>
    /// <exception cref="ArgumentException">The sizes disagree, or a label is outside [0, classes).</exception>
    public ImageDataset(byte[] pixels, int[] labels, ImageInputFormat format, int classes, IReadOnlyList<string>? classNames = null)
        : base(format, classes, classNames)
    {
        if (pixels.LongLength != (long)labels.Length * format.PlanarLength)
        {
            throw new ArgumentException($"dataset: {pixels.LongLength} bytes do not make {labels.Length} images of {format.Channels}x{format.Size}x{format.Size}");
        }

        var bad = Array.FindIndex(labels, l => l < 0 || l >= classes);
        if (bad >= 0)
        {
            throw new ArgumentException($"dataset: label {labels[bad]} of image {bad} is outside [0, {classes})");
        }

        (_pixels, _labels) = (pixels, labels);
    }

    /// <summary>Pixel bytes, [count, C, S, S].</summary>
    public byte[] Pixels => _pixels;

    /// <summary>Class index of every image.</summary>
    public int[] Labels => _labels;

    /// <inheritdoc/>
    public override int Count => _labels.Length;

    /// <summary>The same images and labels normalised with another per-channel mean and standard deviation.</summary>
    public ImageDataset WithNormalization(float[] mean, float[] std) => new(_pixels, _labels, Format with { Mean = mean, Std = std }, Classes, ClassNames);

    internal override RowOrder Order(int? seed) => RowOrder.Permutation(Count, seed, _labels);

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options, RowAugmentation? augmentation = null)
    {
        var (length, size) = (Format.PlanarLength, Format.Size);
        SourceRow Read(int rank)
        {
            var key = order.Keys[rank];
            var pixels = _pixels.AsSpan((int)((long)key * length), length);

            // The images held here are the sources: a training pass crops them.
            return new SourceRow(key, order.Labels[rank], augmentation is null ? pixels.ToArray() : augmentation.Apply(key, PixelImage.FromPlanar(pixels, Format.Channels, size, size), Format), null, null);
        }

        return augmentation is null ? RowReader.Inline(Read, start, order.Count) : RowReader.Indexed(Read, start, order.Count, window, options.Workers);
    }
}
