using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Labelled image files (made by <see cref="ImageFiles"/>), decoded as ML.NET's <c>LoadImages</c> does and brought
/// to the model's input by worker threads while training reads them; only paths and labels stay in memory (and the
/// decoded images when they fit the cache budget). Shuffled passes are seeded permutations of all files.
/// </summary>
public sealed class ImageFileSource : ImageSource
{
    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly ImageFileOptions _options;
    private readonly RowCache _cache;

    internal ImageFileSource(string[] files, int[] labels, int classes, IReadOnlyList<string> classNames, ImageFileOptions options)
        : base(options.Format, classes, classNames)
    {
        (_files, _labels, _options) = (files, labels, options);
        _cache = new RowCache(files.Length, options.Format.PlanarLength, options.CacheBudgetBytes);
    }

    /// <inheritdoc/>
    public override int Count => _files.Length;

    /// <summary>The image files, in canonical order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>Whether decoded images are kept in memory (they fit <see cref="ImageFileOptions.CacheBudgetBytes"/>).</summary>
    public bool Cached => _cache.Enabled;

    internal override bool SkipUnreadable => _options.SkipUnreadable;

    internal override RowOrder Order(int? seed) => RowOrder.Permutation(Count, seed, _labels);

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options, RowAugmentation? augmentation = null)
    {
        SourceRow Read(int rank)
        {
            var (key, label) = (order.Keys[rank], order.Labels[rank]);
            if (augmentation is null && _cache.TryGet(key, label, out var cached))
            {
                return cached;
            }

            // A pass that crops reads the decoded source image (kept, or decoded again) and crops it at full resolution.
            var source = augmentation is null ? null : _cache.Source(key);
            try
            {
                source ??= ImageDecoder.Load(_files[key], _options.MaxPixels).ToColorChannels(Format.Channels);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever fails on one file is that file's failure: named, and skippable.
                var message = e.Message.Contains(_files[key], StringComparison.Ordinal) ? e.Message : $"'{_files[key]}': {e.Message}";
                return SourceRow.Failed(key, label, $"{message} (row {key + 1} of {_files.Length})");
            }

            if (augmentation is not null)
            {
                _cache.Add(key, source);
                return new SourceRow(key, label, augmentation.Apply(key, source, Format), null, null);
            }

            var row = new SourceRow(key, label, Format.ToPlanar(source), null, null);
            _cache.Add(row);
            return row;
        }

        return _cache.Complete && augmentation is null ? RowReader.Inline(Read, start, order.Count) : RowReader.Indexed(Read, start, order.Count, window, options.Workers);
    }

    internal override void ReportSkipped(string error) => _options.OnSkipped?.Invoke(error);
}
