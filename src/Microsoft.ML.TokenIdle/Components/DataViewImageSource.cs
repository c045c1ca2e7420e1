using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// An ML.NET <see cref="IDataView"/>'s labelled images as an <see cref="ImageSource"/>, read through cursors pass by
/// pass and never held whole. A pass reads the view's own order: its random cursor when the view can shuffle (lists,
/// ML.NET's cache) seeded by the pass, else its sequential order through a bounded shuffle pool (as ML.NET's
/// <c>ShuffleRows</c>); both depend only on the seed. A cheap first look at each pass reads only the label column
/// (ML.NET computes a column only when asked, so no image is loaded): it numbers the labelled rows by their row ids
/// (which views make from cursor positions, so they are compared within a pass only). The images are then read by
/// <c>GetRowCursorSet</c>'s parallel cursors, one thread each (ML.NET decodes <c>LoadImages</c> images on the
/// cursor's thread), and handed on in the pass's order.
/// </summary>
internal sealed class DataViewImageSource : ImageSource
{
    private readonly IDataView _data;
    private readonly DataViewSchema.Column _image;
    private readonly DataViewSchema.Column _label;
    private readonly VisionTransformerConfig _config;
    private readonly int _shufflePool;
    private readonly bool _skipUnreadable;
    private readonly Action<string> _onSkipped;
    private Pass _pass;

    /// <summary>Looks at the label column of <paramref name="data"/> once; rows whose key is missing (0) are left out and counted in <see cref="MissingLabels"/>.</summary>
    public DataViewImageSource(IDataView data, DataViewSchema.Column image, DataViewSchema.Column label, VisionTransformerConfig config, IReadOnlyList<string> classNames,
        int shufflePool, bool skipUnreadable, Action<string> onSkipped)
        : base(config.InputFormat, config.NumClasses, classNames)
    {
        (_data, _image, _label, _config, _shufflePool, _skipUnreadable, _onSkipped) = (data, image, label, config, shufflePool, skipUnreadable, onSkipped);
        _pass = ReadLabels(null);
        MissingLabels = _pass.Missing;
    }

    /// <summary>Rows skipped for a missing label.</summary>
    public int MissingLabels { get; }

    /// <summary>Bytes one row takes decoded at the model's size.</summary>
    public long RowBytes => _image.Type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Single ? 4L * Format.PlanarLength : Format.PlanarLength;

    /// <inheritdoc/>
    public override int Count => _pass.Labels.Count;

    internal override bool SkipUnreadable => _skipUnreadable;

    internal override string SkipHint => "set SkipUnreadableImages on the trainer's options to skip rows whose image cannot be read";

    internal override bool StableKeys => false;

    internal override void ReportSkipped(string error) => _onSkipped(error);

    internal override RowOrder Order(int? seed)
    {
        var pass = _pass.Seed == seed ? _pass : ReadLabels(seed);
        if (pass.Labels.Count != Count)
        {
            throw new InvalidDataException($"the data view gave {pass.Labels.Count} labelled rows in a pass and {Count} in its first one: it changed while being read");
        }

        _pass = pass;
        var keys = seed is { } s && !_data.CanShuffle ? PoolShuffle(Count, _shufflePool, new Random(s)) : Enumerable.Range(0, Count).ToArray();
        return new RowOrder(keys, keys.Select(k => pass.Labels[k]).ToArray()) { Seed = seed };
    }

    internal override RowReader Open(RowOrder order, int start, int window, DataPipelineOptions options)
    {
        var pass = _pass.Seed == order.Seed ? _pass : ReadLabels(order.Seed);
        var rankOf = new int[pass.Labels.Count];
        Array.Fill(rankOf, -1);
        for (var rank = start; rank < order.Count; rank++)
        {
            rankOf[order.Keys[rank]] = rank;
        }

        var columns = ImageColumn.DescribingColumns(_data.Schema).Append(_image).Distinct().ToArray();
        var cursors = _data.GetRowCursorSet(columns, options.Workers, Shuffling(order.Seed));
        return RowReader.Parallel(start, order.Count, window, cursors.Length, (rows, worker) =>
        {
            using var cursor = cursors[worker];
            using var reader = new ImageColumnReader(cursor, _image, _config);
            var readId = cursor.GetIdGetter();
            var id = default(DataViewRowId);
            while (!rows.Closed && cursor.MoveNext())
            {
                readId(ref id);
                if (!pass.KeyOf.TryGetValue(id, out var key) || rankOf[key] is var rank && rank < 0 || !rows.WaitForRoom(rank))
                {
                    continue;
                }

                var watch = Stopwatch.StartNew();
                SourceRow row;
                try
                {
                    var (pixels, values) = reader.Read(pass.Positions[key]);
                    if (values is { Length: > 0 } && !float.IsFinite(values[TensorPrimitives.IndexOfMaxMagnitude(values)]))
                    {
                        throw new InvalidDataException($"image column '{_image.Name}', row {pass.Positions[key]}: holds NaN or infinite values; training on it would make every weight NaN");
                    }

                    row = new SourceRow(key, pass.Labels[key], pixels, values, null);
                }
                catch (InvalidDataException e)
                {
                    row = SourceRow.Failed(key, pass.Labels[key], e.Message);
                }

                rows.Put(rank, row, watch.Elapsed);
            }
        });
    }

    /// <summary>
    /// The order a shuffle pool of <paramref name="pool"/> rows gives over rows read in order: the pool is filled,
    /// then each step takes a random row out of it and puts the next row read in its place.
    /// </summary>
    internal static int[] PoolShuffle(int count, int pool, Random random)
    {
        var slots = new List<int>(Math.Min(count, pool));
        var order = new int[count];
        var (read, n) = (0, 0);
        while (n < count)
        {
            while (slots.Count < pool && read < count)
            {
                slots.Add(read++);
            }

            var pick = random.Next(slots.Count);
            order[n++] = slots[pick];
            slots[pick] = slots[^1];
            slots.RemoveAt(slots.Count - 1);
        }

        return order;
    }

    // The view's random cursor for a shuffled pass when it can shuffle; its own order otherwise.
    private Random? Shuffling(int? seed) => seed is { } s && _data.CanShuffle ? new Random(s) : null;

    /// <summary>One pass's labelled rows in the order the view gives them: their ids, positions (for errors) and labels.</summary>
    private Pass ReadLabels(int? seed)
    {
        var pass = new Pass(seed);
        using var cursor = _data.GetRowCursor(new[] { _label }, Shuffling(seed));
        var readLabel = cursor.GetGetter<uint>(_label);
        var readId = cursor.GetIdGetter();
        var (value, id) = (0u, default(DataViewRowId));
        while (cursor.MoveNext())
        {
            readLabel(ref value);
            if (value == 0 || value > ClassNames.Count)
            {
                pass.Missing++;
                continue;
            }

            readId(ref id);
            if (!pass.KeyOf.TryAdd(id, pass.Labels.Count))
            {
                throw new InvalidDataException($"the data view gives row {cursor.Position} the id of an earlier row ({id}); its rows cannot be told apart");
            }

            pass.Positions.Add(cursor.Position);
            pass.Labels.Add((int)value - 1);
        }

        return pass;
    }

    private sealed class Pass(int? seed)
    {
        public int? Seed { get; } = seed;

        public Dictionary<DataViewRowId, int> KeyOf { get; } = new();

        public List<long> Positions { get; } = new();

        public List<int> Labels { get; } = new();

        public int Missing { get; set; }
    }
}
