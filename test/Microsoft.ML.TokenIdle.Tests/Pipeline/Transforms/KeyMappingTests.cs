using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Pipeline.Transforms;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline.Transforms;

public class KeyMappingTests
{
    public sealed class Input
    {
        public string Label { get; set; } = string.Empty;

        public float Size { get; set; }
    }

    public sealed class Keyed
    {
        public uint Label { get; set; }

        public string Original { get; set; } = string.Empty;
    }

    private static readonly Input[] Train = { new() { Label = "cat", Size = 2 }, new() { Label = "dog", Size = 1 }, new() { Label = "cat", Size = 3 }, new() { Label = "ant", Size = 2 } };

    [Fact]
    public void ValuesBecomeOneBasedKeysInOccurrenceOrderWithTheirValuesAnnotated()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(Train);
        var model = context.Transforms.Conversion.MapValueToKey("Label").Fit(data);
        var output = model.Transform(data);
        Assert.Equal("Key<UInt32, 0-2>", output.Schema["Label"].Type.ToString());
        VBuffer<ReadOnlyMemory<char>> names = default;
        output.Schema["Label"].Annotations.GetValue(AnnotationKinds.KeyValues, ref names);
        Assert.Equal(new[] { "cat", "dog", "ant" }, names.DenseValues().Select(n => n.ToString()));

        var unseen = context.Data.LoadFromEnumerable(new[] { new Input { Label = "dog" }, new Input { Label = "eel" } });
        Assert.Equal(new uint[] { 2, 0 }, context.Data.CreateEnumerable<Keyed>(model.Transform(unseen), false, ignoreMissingColumns: true).Select(k => k.Label));
    }

    [Fact]
    public void ByValueSortsTheKeysAndNumbersKeepTheirType()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(Train);
        var sorted = context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data);
        Assert.Equal(new uint[] { 2, 3, 2, 1 }, context.Data.CreateEnumerable<Keyed>(sorted.Transform(data), false, ignoreMissingColumns: true).Select(k => k.Label));

        var sizes = context.Transforms.Conversion.MapValueToKey("SizeKey", "Size").Fit(data).Transform(data);
        VBuffer<float> values = default;
        sizes.Schema["SizeKey"].Annotations.GetValue(AnnotationKinds.KeyValues, ref values);
        Assert.Equal(new[] { 2f, 1f, 3f }, values.ToArray());
    }

    [Fact]
    public void AChainMapsToKeysAndBackAndReportsMissingColumnsInMlNetsWords()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(Train);
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.Conversion.MapKeyToValue("Original", "Label"));
        using var model = pipeline.Fit(data);
        var rows = context.Data.CreateEnumerable<Keyed>(model.Transform(data), false).ToList();
        Assert.Equal(new uint[] { 1, 2, 1, 3 }, rows.Select(r => r.Label));
        Assert.Equal(Train.Select(t => t.Label), rows.Select(r => r.Original));
        Assert.IsType<KeyToValueMappingTransformer>(model.LastTransformer);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => context.Transforms.Conversion.MapValueToKey("Label", "Missing").Fit(data));
        Assert.StartsWith("Could not find input column 'Missing'", e.Message);
        var mismatch = Assert.Throws<ArgumentOutOfRangeException>(() => context.Transforms.Conversion.MapKeyToValue("Back", "Size").GetOutputSchema(SchemaShape.Create(data.Schema)));
        Assert.StartsWith("Schema mismatch for input column 'Size': expected Key<UInt32>, got Single", mismatch.Message);
    }

    [Fact]
    public void TheRowMapperOfAChainMapsSingleRows()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(Train);
        var model = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.Conversion.MapKeyToValue("Original", "Label")).Fit(data);
        var mapper = model.GetRowToRowMapper(data.Schema);
        using var cursor = data.GetRowCursor(data.Schema);
        var row = mapper.GetRow(cursor, new[] { mapper.OutputSchema["Original"], mapper.OutputSchema["Label"] });
        var original = row.GetGetter<ReadOnlyMemory<char>>(mapper.OutputSchema["Original"]);
        var key = row.GetGetter<uint>(mapper.OutputSchema["Label"]);
        var (text, k) = (ReadOnlyMemory<char>.Empty, 0u);
        var seen = new List<(string, uint)>();
        while (cursor.MoveNext())
        {
            original(ref text);
            key(ref k);
            seen.Add((text.ToString(), k));
        }

        Assert.Equal(new[] { ("cat", 1u), ("dog", 2u), ("cat", 1u), ("ant", 3u) }, seen);
    }
}
