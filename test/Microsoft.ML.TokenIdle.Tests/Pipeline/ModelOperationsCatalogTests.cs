using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Pipeline.Trainers;
using Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline;

public sealed class ModelOperationsCatalogTests : IClassFixture<PipelineTestData>
{
    private readonly PipelineTestData _data;

    public ModelOperationsCatalogTests(PipelineTestData data) => _data = data;

    public sealed class Output
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public string PredictedName { get; set; } = string.Empty;

        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    private static List<Output> Score(MLContext context, ITransformer model, IDataView data) => context.Data.CreateEnumerable<Output>(model.Transform(data), false, ignoreMissingColumns: true).ToList();

    [Theory]
    [InlineData("idle")]
    [InlineData("life")]
    public void ASavedAndLoadedPipelineScoresIdentically(string method)
    {
        var context = new MLContext(seed: 1);
        var (train, test) = _data.Data(context);
        VisionTransformerTrainer trainer = method == "life"
            ? context.MulticlassClassification.Trainers.LifeRegressionSlimming(_data.Recipe(new LifeRegressionSlimmingOptions { KeepRatio = 0.5, MaxEpoch = 1 }))
            : context.MulticlassClassification.Trainers.TokenIdleImageClassification(_data.Recipe(new TokenIdleImageClassificationOptions { KeepRatio = 0.5, MaxEpoch = 1 }));
        var model = _data.Prepare(context)
            .Append(context.Transforms.ResizeImages("Small", 8, 8, "Image", ImageResizingEstimator.ResizingKind.IsoPad))
            .Append(context.Transforms.ExtractPixels("Pixels", "Small", offsetImage: 3, scaleImage: 0.5f))
            .Append(trainer)
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(train);
        var path = Path.Combine(_data.Root, $"{method}.zip");
        context.Model.Save(model, train.Schema, path);

        var loaded = new MLContext().Model.Load(path, out var schema);
        Assert.Equal(train.Schema.Select(c => (c.Name, c.Type.ToString())), schema!.Select(c => (c.Name, c.Type.ToString())));
        var before = Score(context, model, test);
        var after = Score(context, loaded, test);
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Score, after[i].Score);
            Assert.Equal(before[i].PredictedName, after[i].PredictedName);
            Assert.Equal(before[i].Pixels, after[i].Pixels);
        }
    }

    [Fact]
    public void AZipSavedHereScoresTheSameInAnotherProcess()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = _data.Data(context);
        var model = _data.Prepare(context)
            .Append(context.MulticlassClassification.Trainers.TokenIdleImageClassification(_data.Recipe(new TokenIdleImageClassificationOptions { MaxEpoch = 1 })))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(train);
        var path = Path.Combine(_data.Root, "served.zip");
        context.Model.Save(model, train.Schema, path);
        var rows = context.Data.CreateEnumerable<PipelineTestData.ImageRow>(test, false).Take(6).ToList();
        var expected = Score(context, model, context.Data.LoadFromEnumerable(rows));

        var (code, stdout, stderr) = Cli.CliRunner.Run(new[] { "predict", "--model", path, "--top", "2" }.Concat(rows.Select(r => Path.Combine(_data.Images, r.ImagePath))).ToArray());
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(6, lines.Count);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i].PredictedName, lines[i].GetProperty("predicted").GetString());
            Assert.InRange(lines[i].GetProperty("probability").GetDouble(), expected[i].Score.Max() - 1e-5, expected[i].Score.Max() + 1e-5);
            Assert.Equal(2, lines[i].GetProperty("top").GetArrayLength());
        }

        // visualize draws the zip's own method.
        var pictures = Path.Combine(_data.Root, "pictures");
        (code, _, stderr) = Cli.CliRunner.Run("visualize", "--model", path, "--output", pictures, Path.Combine(_data.Images, rows[0].ImagePath));
        Assert.True(code == 0, stderr);
        Assert.Single(Directory.GetFiles(pictures, "*.idle.png"));

        (code, _, stderr) = Cli.CliRunner.Run("predict", "--model", Path.Combine(_data.Root, "missing.zip"), "x.png");
        Assert.Equal(1, code);
        Assert.Contains("missing.zip", stderr);
    }

    [Fact]
    public void TruncatedOrAlteredZipsAreRefusedAndSavingIsAtomic()
    {
        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var model = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainerOptions { MaxEpoch = 1 }))).Fit(train);
        var path = Path.Combine(_data.Root, "full.zip");
        context.Model.Save(model, train.Schema, path);
        var bytes = File.ReadAllBytes(path);

        var truncated = Path.Combine(_data.Root, "truncated.zip");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => context.Model.Load(truncated, out _));
        Assert.Contains("truncated.zip", e.Message);

        // Flip one byte inside the weights entry: the zip still opens, the checksum catches it.
        var altered = Path.Combine(_data.Root, "altered.zip");
        var copy = (byte[])bytes.Clone();
        var at = IndexOf(copy, "TSModel.safetensors"u8.ToArray()) + 400;
        copy[at] ^= 0x5A;
        File.WriteAllBytes(altered, copy);
        var tampered = Assert.Throws<InvalidDataException>(() => context.Model.Load(altered, out _));
        Assert.Contains("altered.zip", tampered.Message);

        // A model that cannot be saved leaves no file behind.
        var unsaved = Path.Combine(_data.Root, "unsaved.zip");
        Assert.Throws<NotSupportedException>(() => context.Model.Save(new ForeignTransformer(), null, unsaved));
        Assert.False(File.Exists(unsaved));
        Assert.Empty(Directory.GetFiles(_data.Root, "*.tmp"));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new InvalidOperationException("entry name not found");
    }

    private sealed class ForeignTransformer : ITransformer
    {
        public bool IsRowToRowMapper => false;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => input;

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new InvalidOperationException("not a row mapper");
    }
}
