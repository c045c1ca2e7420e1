using System.Reflection;

namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>Loading, enumerating and splitting data (ML.NET's <c>MLContext.Data</c>).</summary>
public sealed class DataOperationsCatalog
{
    private readonly MLContext _context;

    internal DataOperationsCatalog(MLContext context) => _context = context;

    /// <summary>A data view of <paramref name="data"/> with the schema inferred from <typeparamref name="TRow"/>'s public fields and properties.</summary>
    public IDataView LoadFromEnumerable<TRow>(IEnumerable<TRow> data)
        where TRow : class
    {
        var members = RowBinding.Members(typeof(TRow));
        var builder = new DataViewSchema.Builder();
        var types = members.Select(m => RowBinding.ColumnType(m.Member, m.MemberType)).ToArray();
        for (var i = 0; i < members.Count; i++)
        {
            builder.AddColumn(members[i].Column, types[i]);
        }

        var rows = data.ToList();
        var columns = new Array[members.Count];
        for (var c = 0; c < members.Count; c++)
        {
            columns[c] = Array.CreateInstance(types[c].RawType, rows.Count);
            for (var r = 0; r < rows.Count; r++)
            {
                var value = RowBinding.ToColumnValue(RowBinding.Get(members[c].Member, rows[r] ?? throw new ArgumentException($"row {r} is null")), types[c]);
                if (types[c] is VectorDataViewType { IsKnownSize: true } v && value is not null && (int)value.GetType().GetProperty(nameof(VBuffer<int>.Length))!.GetValue(value)! != v.Size)
                {
                    throw new ArgumentException($"row {r}: member '{members[c].Member.Name}' has {value.GetType().GetProperty(nameof(VBuffer<int>.Length))!.GetValue(value)} items, its [VectorType] says {v.Size}");
                }

                columns[c].SetValue(value, r);
            }
        }

        return new ArrayDataView(builder.ToSchema(), columns);
    }

    /// <summary>
    /// Rows of delimited text (e.g. image path and label) into columns named after the members of
    /// <typeparamref name="TInput"/>, each read from the field its <see cref="LoadColumnAttribute"/> gives.
    /// </summary>
    /// <exception cref="InvalidDataException">A field is missing or not of its member's type; the message names file, line and member.</exception>
    public IDataView LoadFromTextFile<TInput>(string path, char separatorChar = '\t', bool hasHeader = false, bool allowQuoting = false, bool trimWhitespace = false)
        where TInput : class, new()
        => LoadFromEnumerable(TextLoader.Read<TInput>(path, separatorChar, hasHeader, allowQuoting, trimWhitespace));

    /// <summary>
    /// The images of a folder with one sub-folder per class: a text column of absolute file paths
    /// (PNG and JPEG, in path order) and a text column of the sub-folder names, ready for
    /// <c>MapValueToKey</c> and <c>LoadImages</c>.
    /// </summary>
    public IDataView LoadImagesFromFolder(string folder, string imagePathColumnName = "ImagePath", string labelColumnName = "Label")
    {
        var files = Training.Data.ImageFiles.ListFolder(folder);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(imagePathColumnName, TextDataViewType.Instance);
        builder.AddColumn(labelColumnName, TextDataViewType.Instance);
        return new ArrayDataView(builder.ToSchema(), new Array[] { files.Select(f => Path.GetFullPath(f.Path).AsMemory()).ToArray(), files.Select(f => f.Label.AsMemory()).ToArray() });
    }

    /// <summary>
    /// The rows of <paramref name="data"/> as <typeparamref name="TRow"/> objects, each public field or
    /// property filled from the column of its name. Keys bind to uint only (map them to values first).
    /// </summary>
    /// <exception cref="InvalidOperationException">A member has no column (unless <paramref name="ignoreMissingColumns"/>) or one it cannot hold.</exception>
    public IEnumerable<TRow> CreateEnumerable<TRow>(IDataView data, bool reuseRowObject, bool ignoreMissingColumns = false)
        where TRow : class, new()
    {
        var bound = RowBinding.Bind(typeof(TRow), data.Schema, ignoreMissingColumns, "the IDataView");
        return Enumerate<TRow>(data, bound, reuseRowObject);
    }

    /// <summary>Splits rows at random into a training and a test set (seeded by <paramref name="seed"/>, else the context's seed).</summary>
    public TrainTestData TrainTestSplit(IDataView data, double testFraction = 0.1, string? samplingKeyColumnName = null, int? seed = null)
    {
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction must be in (0, 1)");
        }

        var table = Materialize(data);
        var random = _context.CreateRandom(seed);
        var test = new List<int>();
        var train = new List<int>();
        if (samplingKeyColumnName is null)
        {
            var order = Enumerable.Range(0, table.Rows).ToArray();
            random.Shuffle(order);
            var testCount = (int)Math.Round(order.Length * testFraction);
            test.AddRange(order[..testCount].Order());
            train.AddRange(order[testCount..].Order());
        }
        else
        {
            // Rows with equal sampling keys stay on one side.
            var column = data.Schema[samplingKeyColumnName].Index;
            foreach (var group in Enumerable.Range(0, table.Rows).GroupBy(r => table.Columns[column].GetValue(r)?.ToString()))
            {
                (random.NextDouble() < testFraction ? test : train).AddRange(group);
            }

            test.Sort();
            train.Sort();
        }

        return new TrainTestData(table.Select(data.Schema, train), table.Select(data.Schema, test));
    }

    /// <summary>The rows in a random order (seeded by <paramref name="seed"/>, else the context's seed).</summary>
    public IDataView ShuffleRows(IDataView input, int? seed = null)
    {
        var table = Materialize(input);
        var order = Enumerable.Range(0, table.Rows).ToArray();
        _context.CreateRandom(seed).Shuffle(order);
        return table.Select(input.Schema, order);
    }

    /// <summary>The first <paramref name="count"/> rows.</summary>
    public IDataView TakeRows(IDataView input, long count)
    {
        var table = Materialize(input);
        return table.Select(input.Schema, Enumerable.Range(0, (int)Math.Min(count, table.Rows)));
    }

    /// <summary>All rows after the first <paramref name="count"/>.</summary>
    public IDataView SkipRows(IDataView input, long count)
    {
        var table = Materialize(input);
        return table.Select(input.Schema, Enumerable.Range((int)Math.Min(count, table.Rows), (int)Math.Max(0, table.Rows - count)));
    }

    /// <summary>The rows computed once and kept in memory (later cursors do not recompute the transforms below).</summary>
    public IDataView Cache(IDataView input)
    {
        var table = Materialize(input);
        return table.Select(input.Schema, Enumerable.Range(0, table.Rows));
    }

    private static IEnumerable<TRow> Enumerate<TRow>(IDataView data, List<(MemberInfo Member, Type Type, DataViewSchema.Column Column)> bound, bool reuse)
        where TRow : class, new()
    {
        using var cursor = data.GetRowCursor(bound.Select(b => b.Column));
        var write = RowBinding.Writer(cursor, bound);
        TRow? row = null;
        while (cursor.MoveNext())
        {
            row = reuse && row is not null ? row : new TRow();
            write(row);
            yield return row;
        }
    }

    /// <summary>Reads every row of every column of <paramref name="data"/> into arrays.</summary>
    internal static Table Materialize(IDataView data)
    {
        var values = data.Schema.Select(_ => new List<object?>()).ToArray();
        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var readers = data.Schema.Select(c => ColumnReader.Create(cursor, c)).ToArray();
            while (cursor.MoveNext())
            {
                for (var c = 0; c < readers.Length; c++)
                {
                    values[c].Add(readers[c].Read());
                }
            }
        }

        var columns = new Array[values.Length];
        for (var c = 0; c < values.Length; c++)
        {
            columns[c] = Array.CreateInstance(data.Schema[c].Type.RawType, values[c].Count);
            for (var r = 0; r < values[c].Count; r++)
            {
                columns[c].SetValue(values[c][r], r);
            }
        }

        return new Table(columns, values.Length == 0 ? 0 : values[0].Count);
    }

    /// <summary>Materialised columns.</summary>
    internal sealed record Table(Array[] Columns, int Rows)
    {
        public IDataView Select(DataViewSchema schema, IEnumerable<int> rows)
        {
            var indices = rows.ToArray();
            var columns = Columns.Select(column =>
            {
                var subset = Array.CreateInstance(column.GetType().GetElementType()!, indices.Length);
                for (var i = 0; i < indices.Length; i++)
                {
                    subset.SetValue(column.GetValue(indices[i]), i);
                }

                return subset;
            }).ToArray();
            return new ArrayDataView(schema, columns);
        }
    }
}
