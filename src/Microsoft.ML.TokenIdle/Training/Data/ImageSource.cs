using System.Collections.Concurrent;
using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Labelled images that training and evaluation read in passes, a batch at a time, without holding the source in
/// memory: image files (<see cref="ImageFiles"/>), an ML.NET <c>IDataView</c> (inside the trainers), or images
/// already in memory (<see cref="ImageDataset"/>). Each pass has an order (canonical, or shuffled by a seed) that
/// depends only on the seed, so equal seeds give equal batches whatever the number of decode workers.
/// </summary>
public abstract class ImageSource
{
    private readonly ConcurrentDictionary<int, bool> _skipped = new();

    private protected ImageSource(ImageInputFormat format, int classes, IReadOnlyList<string>? classNames)
    {
        format.Validate();
        if (classes < 1)
        {
            throw new ArgumentException($"image source: need at least one class, got {classes}");
        }

        (Format, Classes) = (format, classes);
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The model input the images are brought to (size, channels, mean and standard deviation).</summary>
    public ImageInputFormat Format { get; }

    /// <summary>Number of classes (labels are below it).</summary>
    public int Classes { get; }

    /// <summary>Class names by index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Labelled rows (unreadable ones among them until a pass has met them).</summary>
    public abstract int Count { get; }

    /// <summary>Unreadable rows reported and skipped so far (each counted once).</summary>
    public int SkippedCount => Root._skipped.Count;

    /// <summary>Whether a row that cannot be read is reported and skipped instead of ending the pass.</summary>
    internal virtual bool SkipUnreadable => false;

    /// <summary>How a user skips unreadable rows, as the error says it.</summary>
    internal virtual string SkipHint => "rows that cannot be read can be skipped with the skip-unreadable option";

    /// <summary>The source whose rows this one reads (itself, or the source a subset was taken from).</summary>
    internal virtual ImageSource Root => this;

    /// <summary>The first <paramref name="count"/> rows (in canonical order).</summary>
    public ImageSource Take(int count)
    {
        if (count < 1)
        {
            throw new ArgumentException($"image source: take at least 1 row, got {count}");
        }

        var keys = Order(null).Keys;
        return count >= keys.Length ? this : new SubsetImageSource(this, keys[..count]);
    }

    /// <summary>
    /// Holds out a seeded random <paramref name="fraction"/> of the rows (at least one): the rest for training, the
    /// held-out rows for validation. Nothing is read or decoded.
    /// </summary>
    public (ImageSource Remaining, ImageSource HeldOut) Split(double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1))
        {
            throw new ArgumentException($"image source: the held-out fraction must be in (0, 1), got {fraction}");
        }

        var keys = Order(null).Keys.ToArray();
        if (keys.Length < 2)
        {
            throw new ArgumentException($"image source: {keys.Length} row cannot be split for validation");
        }

        new Random(seed).Shuffle(keys);
        var held = Math.Clamp((int)Math.Round(keys.Length * fraction), 1, keys.Length - 1);

        return (new SubsetImageSource(this, keys[held..].Order().ToArray()), new SubsetImageSource(this, keys[..held].Order().ToArray()));
    }

    /// <summary>The rows of a pass: canonical order for a null <paramref name="seed"/>, else shuffled by it.</summary>
    internal abstract RowOrder Order(int? seed);

    /// <summary>
    /// Starts reading <paramref name="order"/>'s rows from rank <paramref name="start"/>; <paramref name="window"/> rows may
    /// be read ahead; <paramref name="augmentation"/>, for a training pass, crops and flips each row's source image.
    /// </summary>
    internal abstract RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options, RowAugmentation? augmentation = null);

    /// <summary>Records a skipped row; true the first time it is met (when it is reported).</summary>
    internal bool MarkSkipped(int key) => Root._skipped.TryAdd(key, true);

    /// <summary>Reports a skipped row's error (once per row).</summary>
    internal virtual void ReportSkipped(string error)
    {
    }
}
