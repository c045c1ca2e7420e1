using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// An ML.NET <see cref="IDataView"/>'s labelled images as an <see cref="ImageSource"/>, read through cursors and never
/// held whole. A first pass reads only the label column (ML.NET computes a column only when asked, so no image is
/// loaded) and numbers the labelled rows in the view's order by their row ids. A shuffled pass is a seeded permutation
/// of all rows, as for image files, whatever the view: most views (enumerables, text files, splits) cannot shuffle,
/// so the pass reads the view in order once per chunk of its permutation, decoding only that chunk's rows (at most a
/// shuffle buffer of them; the first chunks are smaller, so training starts at once) and handing them on in the
/// permutation's order. The images are read by
/// <c>GetRowCursorSet</c>'s parallel cursors, one worker thread each (ML.NET decodes <c>LoadImages</c> images on the
/// cursor's thread). When all decoded rows fit the cache budget they are kept from their first read on, and a pass
/// whose rows are all kept reads no cursor.
/// </summary>
internal sealed class DataViewImageSource : ImageSource
{
    private readonly IDataView _data;
    private readonly DataViewSchema.Column _image;
    private readonly VisionTransformerConfig _config;
    private readonly long _shuffleBufferBytes;
    private readonly bool _skipUnreadable;
    private readonly Action<string> _onSkipped;
    private readonly Dictionary<DataViewRowId, int> _keyOf = new();
    private readonly List<long> _positions = new();
    private readonly List<int> _labels = new();
    private readonly RowCache _cache;

    /// <summary>Reads the label column of <paramref name="data"/> once; rows whose key is missing (0) are left out and counted in <see cref="MissingLabels"/>.</summary>
    public DataViewImageSource(IDataView data, DataViewSchema.Column image, DataViewSchema.Column label, VisionTransformerConfig config, IReadOnlyList<string> classNames,
        long shuffleBufferBytes, long cacheBudgetBytes, bool skipUnreadable, Action<string> onSkipped)
        : base(config.InputFormat, config.NumClasses, classNames)
    {
        (_data, _image, _config, _shuffleBufferBytes, _skipUnreadable, _onSkipped) = (data, image, config, shuffleBufferBytes, skipUnreadable, onSkipped);
        using var cursor = data.GetRowCursor(new[] { label });
        var readLabel = cursor.GetGetter<uint>(label);
        var readId = cursor.GetIdGetter();
        var (value, id) = (0u, default(DataViewRowId));
        while (cursor.MoveNext())
        {
            readLabel(ref value);
            if (value == 0 || value > classNames.Count)
            {
                MissingLabels++;
                continue;
            }

            readId(ref id);
            if (!_keyOf.TryAdd(id, _labels.Count))
            {
                throw new InvalidDataException($"the data view gives row {cursor.Position} the id of an earlier row ({id}); its rows cannot be told apart");
            }

            _positions.Add(cursor.Position);
            _labels.Add((int)value - 1);
        }

        _cache = new RowCache(_labels.Count, RowBytes, cacheBudgetBytes);
    }

    /// <summary>Rows skipped for a missing label.</summary>
    public int MissingLabels { get; }

    /// <summary>Bytes one row takes decoded at the model's size.</summary>
    public long RowBytes => _image.Type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Single ? 4L * Format.PlanarLength : Format.PlanarLength;

    /// <summary>Whether decoded images are kept in memory after their first read (they fit the cache budget).</summary>
    public bool Cached => _cache.Enabled;

    /// <inheritdoc/>
    public override int Count => _labels.Count;

    internal override bool SkipUnreadable => _skipUnreadable;

    internal override string SkipHint => "set SkipUnreadableImages on the trainer's options to skip rows whose image cannot be read";

    internal override void ReportSkipped(string error) => _onSkipped(error);

    internal override RowOrder Order(int? seed) => RowOrder.Permutation(Count, seed, _labels);

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options, RowAugmentation? augmentation = null)
    {
        if (_cache.Complete && augmentation is null)
        {
            return RowReader.Inline(rank => _cache.TryGet(order.Keys[rank], order.Labels[rank], out var row) ? row : throw new InvalidOperationException("a complete cache lacks a row"), start, order.Count);
        }

        var rankOf = new int[Count];
        Array.Fill(rankOf, -1);
        for (var rank = start; rank < order.Count; rank++)
        {
            rankOf[order.Keys[rank]] = rank;
        }

        // Each chunk of ranks is one pass over the view in its own order; all of a chunk's rows fit the window. Chunks
        // grow from the prefetch window to the shuffle buffer, so the first batches come after decoding a window only.
        var buffer = (int)Math.Clamp(_shuffleBufferBytes / RowBytes, window, int.MaxValue / 4);
        var bounds = new List<int> { start };
        for (var size = window; bounds[^1] < order.Count; size = Math.Min(buffer, size * 2))
        {
            bounds.Add((int)Math.Min(order.Count, (long)bounds[^1] + size));
        }

        var chunks = bounds.Count - 1;
        var columns = ImageColumn.DescribingColumns(_data.Schema).Append(_image).Distinct().ToArray();
        var sets = new DataViewRowCursor[]?[chunks];
        DataViewRowCursor[]? Cursors(RowWindow rows, int c)
        {
            lock (sets)
            {
                return rows.Closed ? null : sets[c] ??= _data.GetRowCursorSet(columns, options.Workers);
            }
        }

        void DisposeCursors()
        {
            foreach (var cursor in sets.Where(s => s is not null).SelectMany(s => s!))
            {
                cursor.Dispose();
            }
        }

        return RowReader.Parallel(start, order.Count, buffer + window, options.Workers, (rows, worker) =>
        {
            for (var c = 0; c < chunks; c++)
            {
                if (Cursors(rows, c) is not { } set)
                {
                    return;
                }

                if (worker < set.Length && !Read(set[worker], rows, rankOf, bounds[c], bounds[c + 1], augmentation))
                {
                    return;
                }
            }
        }, DisposeCursors);
    }

    // Reads the rows of one cursor whose ranks are in [first, end); false when the consumer has gone.
    private bool Read(DataViewRowCursor cursor, RowWindow rows, int[] rankOf, int first, int end, RowAugmentation? augmentation)
    {
        using var reader = new ImageColumnReader(cursor, _image, _config);
        var readId = cursor.GetIdGetter();
        var id = default(DataViewRowId);
        while (cursor.MoveNext())
        {
            if (rows.Closed)
            {
                return false;
            }

            readId(ref id);
            if (!_keyOf.TryGetValue(id, out var key) || rankOf[key] is var rank && (rank < first || rank >= end))
            {
                continue;
            }

            // A cached row costs no decoding and no memory of the window's (a pass that crops needs the kept source image).
            if (augmentation is null && _cache.TryGet(key, _labels[key], out var cached))
            {
                rows.Put(rank, cached, TimeSpan.Zero);
                continue;
            }

            if (!rows.WaitForRoom(rank))
            {
                return false;
            }

            var watch = Stopwatch.StartNew();
            SourceRow row;
            try
            {
                // A pass that crops reads an image's source (kept, or read again) and crops it at full resolution; inputs
                // given already normalised at the model's size are cropped as a batch by the trainer.
                var source = augmentation is null ? null : _cache.Source(key);
                var (pixels, values) = ((byte[]?)null, (float[]?)null);
                if (augmentation is null)
                {
                    (pixels, values) = reader.Read(_positions[key]);
                }
                else if (source is null)
                {
                    (source, values) = reader.ReadSource(_positions[key]);
                    if (source is not null)
                    {
                        _cache.Add(key, source);
                    }
                }

                if (values is not null && ModelInputList.HoldsNonFinite(values))
                {
                    throw new InvalidDataException($"image column '{_image.Name}', row {_positions[key]}: holds NaN or infinite values; training on it would make every weight NaN");
                }

                row = new SourceRow(key, _labels[key], source is null ? pixels : augmentation!.Apply(key, source, Format), values, null);
                if (augmentation is null)
                {
                    _cache.Add(row);
                }
            }
            catch (InvalidDataException e)
            {
                row = SourceRow.Failed(key, _labels[key], e.Message);
            }

            rows.Put(rank, row, watch.Elapsed);
        }

        return true;
    }
}
