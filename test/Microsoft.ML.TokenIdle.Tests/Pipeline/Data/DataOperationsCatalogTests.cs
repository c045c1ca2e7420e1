using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline.Data;

public class DataOperationsCatalogTests
{
    public sealed class Row
    {
        public float Weight { get; set; }

        public string Name { get; set; } = string.Empty;

        [KeyType(10)]
        public uint Label { get; set; }

        [VectorType(3, 2, 2)]
        public float[] Pixels { get; set; } = Array.Empty<float>();

        [ColumnName("Tags")]
        public string[] Words { get; set; } = Array.Empty<string>();

        [NoColumn]
        public int Ignored { get; set; }
    }

    public sealed class NameAsString
    {
        public string Label { get; set; } = string.Empty;
    }

    public sealed class Missing
    {
        public float Nowhere { get; set; }
    }

    private static List<Row> Rows(int n) => Enumerable.Range(0, n).Select(i => new Row
    {
        Weight = i * 0.5f, Name = $"r{i}", Label = (uint)(i % 10 + 1), Pixels = Enumerable.Range(i, 12).Select(v => (float)v).ToArray(), Words = new[] { "a", $"w{i}" }, Ignored = 7,
    }).ToList();

    [Fact]
    public void TheSchemaIsInferredFromTheRowClassAsMlNetDoes()
    {
        var view = new MLContext(1).Data.LoadFromEnumerable(Rows(3));
        Assert.Equal(new[] { "Weight", "Name", "Label", "Pixels", "Tags" }, view.Schema.Select(c => c.Name));
        Assert.Equal(NumberDataViewType.Single, view.Schema["Weight"].Type);
        Assert.Equal(TextDataViewType.Instance, view.Schema["Name"].Type);
        Assert.Equal("Key<UInt32, 0-9>", view.Schema["Label"].Type.ToString());
        var pixels = Assert.IsType<VectorDataViewType>(view.Schema["Pixels"].Type);
        Assert.Equal(new[] { 3, 2, 2 }, pixels.Dimensions);
        Assert.Equal(12, pixels.Size);
        Assert.False(((VectorDataViewType)view.Schema["Tags"].Type).IsKnownSize);
        Assert.Equal(3, view.GetRowCount());
    }

    [Fact]
    public void RowsRoundTripThroughAView()
    {
        var context = new MLContext(1);
        var rows = Rows(5);
        var back = context.Data.CreateEnumerable<Row>(context.Data.LoadFromEnumerable(rows), reuseRowObject: false).ToList();
        Assert.Equal(5, back.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal((rows[i].Weight, rows[i].Name, rows[i].Label), (back[i].Weight, back[i].Name, back[i].Label));
            Assert.Equal(rows[i].Pixels, back[i].Pixels);
            Assert.Equal(rows[i].Words, back[i].Words);
            Assert.Equal(0, back[i].Ignored);
        }
    }

    [Fact]
    public void GettersFillTheCallersBufferAndCheckTheirType()
    {
        var view = new MLContext().Data.LoadFromEnumerable(Rows(2));
        using var cursor = view.GetRowCursor(new[] { view.Schema["Label"], view.Schema["Pixels"] });
        var label = cursor.GetGetter<uint>(view.Schema["Label"]);
        var pixels = cursor.GetGetter<VBuffer<float>>(view.Schema["Pixels"]);
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(view.Schema["Label"]));
        var e = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(view.Schema["Weight"]));
        Assert.Contains("not requested", e.Message);
        uint key = 0;
        VBuffer<float> buffer = default;
        Assert.True(cursor.MoveNext());
        Assert.True(cursor.MoveNext());
        label(ref key);
        pixels(ref buffer);
        Assert.Equal(2u, key);
        Assert.Equal(Enumerable.Range(1, 12).Select(v => (float)v), buffer.DenseValues());
        Assert.False(cursor.MoveNext());
    }

    [Fact]
    public void BindingErrorsUseMlNetsWording()
    {
        var context = new MLContext();
        var view = context.Data.LoadFromEnumerable(Rows(1));
        var e = Assert.Throws<InvalidOperationException>(() => context.Data.CreateEnumerable<NameAsString>(view, false).ToList());
        Assert.Equal("Can't bind the IDataView column 'Label' of type 'Key<UInt32, 0-9>' to field or property 'Label' of type 'System.String'.", e.Message);
        Assert.Throws<InvalidOperationException>(() => context.Data.CreateEnumerable<Missing>(view, false).ToList());
        Assert.All(context.Data.CreateEnumerable<Missing>(view, false, ignoreMissingColumns: true), m => Assert.Equal(0f, m.Nowhere));
    }

    [Fact]
    public void SplitsAndShufflesAreSeededAndLoseNoRow()
    {
        var context = new MLContext(seed: 3);
        var view = context.Data.LoadFromEnumerable(Rows(50));
        var split = context.Data.TrainTestSplit(view, testFraction: 0.2, seed: 9);
        var train = context.Data.CreateEnumerable<Row>(split.TrainSet, false).Select(r => r.Name).ToList();
        var test = context.Data.CreateEnumerable<Row>(split.TestSet, false).Select(r => r.Name).ToList();
        Assert.Equal(10, test.Count);
        Assert.Equal(50, train.Union(test).Count());
        var again = new MLContext(seed: 3).Data.TrainTestSplit(view, testFraction: 0.2, seed: 9);
        Assert.Equal(test, context.Data.CreateEnumerable<Row>(again.TestSet, false).Select(r => r.Name));

        var shuffled = context.Data.CreateEnumerable<Row>(context.Data.ShuffleRows(view, seed: 4), false).Select(r => r.Name).ToList();
        Assert.NotEqual(Rows(50).Select(r => r.Name), shuffled);
        Assert.Equal(Rows(50).Select(r => r.Name).Order(), shuffled.Order());

        var grouped = context.Data.TrainTestSplit(view, 0.3, samplingKeyColumnName: "Label", seed: 2);
        var testLabels = context.Data.CreateEnumerable<Row>(grouped.TestSet, false).Select(r => r.Label).ToHashSet();
        Assert.DoesNotContain(context.Data.CreateEnumerable<Row>(grouped.TrainSet, false), r => testLabels.Contains(r.Label));

        Assert.Equal(new[] { "r0", "r1", "r2" }, context.Data.CreateEnumerable<Row>(context.Data.TakeRows(view, 3), false).Select(r => r.Name));
        Assert.Equal(new[] { "r48", "r49" }, context.Data.CreateEnumerable<Row>(context.Data.SkipRows(view, 48), false).Select(r => r.Name));
    }

    public sealed class CsvRow
    {
        [LoadColumn(0)]
        public string ImagePath { get; set; } = string.Empty;

        [LoadColumn(2)]
        public string Label { get; set; } = string.Empty;

        [LoadColumn(1)]
        public float Weight { get; set; }
    }

    [Fact]
    public void TextFilesLoadByColumnIndexWithQuotingAndNameTheirBadLines()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, new[] { "path,weight,label", "a.png,1.5,cat", "\"b, c.jpg\",2,\"dog \"\"big\"\"\"", string.Empty });
            var context = new MLContext();
            var rows = context.Data.CreateEnumerable<CsvRow>(context.Data.LoadFromTextFile<CsvRow>(path, ',', hasHeader: true, allowQuoting: true), false).ToList();
            Assert.Equal(new[] { ("a.png", 1.5f, "cat"), ("b, c.jpg", 2f, "dog \"big\"") }, rows.Select(r => (r.ImagePath, r.Weight, r.Label)));

            File.AppendAllLines(path, new[] { "d.png,heavy,cat" });
            var e = Assert.Throws<InvalidDataException>(() => context.Data.LoadFromTextFile<CsvRow>(path, ',', hasHeader: true, allowQuoting: true));
            Assert.Contains("line 5: 'heavy' is not a Single for 'Weight'", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AFolderOfClassFoldersBecomesPathAndLabelColumns()
    {
        var root = Directory.CreateTempSubdirectory("folders").FullName;
        try
        {
            foreach (var (label, file) in new[] { ("shoe", "1.png"), ("bag", "2.jpg"), ("bag", "notes.txt") })
            {
                Directory.CreateDirectory(Path.Combine(root, label));
                File.WriteAllText(Path.Combine(root, label, file), "x");
            }

            var context = new MLContext();
            var rows = context.Data.CreateEnumerable<CsvRow>(context.Data.LoadImagesFromFolder(root), false, ignoreMissingColumns: true).ToList();
            Assert.Equal(new[] { ("bag", "2.jpg"), ("shoe", "1.png") }, rows.Select(r => (r.Label, Path.GetFileName(r.ImagePath))));
            Assert.All(rows, r => Assert.True(Path.IsPathRooted(r.ImagePath)));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void SparseBuffersExpandToDenseValues()
    {
        var sparse = new VBuffer<float>(5, new[] { 2f, 4f }, new[] { 1, 3 });
        Assert.False(sparse.IsDense);
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f }, sparse.ToArray());
        Assert.Equal(new[] { 0f, 2f, 0f, 4f, 0f }, sparse.DenseValues());
        Assert.Throws<ArgumentException>(() => new VBuffer<float>(2, new[] { 1f, 2f, 3f }, new[] { 0, 1, 2 }));
    }
}
