using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.CodeGeneration;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Tests.Cli;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// Token merging in ML.NET: any classifier, fitted or loaded from a zip, scores with ToMe through
/// <see cref="VisionTransformerClassifier.WithTokenReduction"/> as <c>tokenidle infer --method tome</c> does on the same
/// weights; the zip records the reduction; the ToMe trainer finetunes and its token-mask column holds merged sizes.
/// </summary>
public sealed class TokenMergingImageClassificationTests : IClassFixture<ImagePipelineData>
{
    private readonly ImagePipelineData _data;

    public TokenMergingImageClassificationTests(ImagePipelineData data) => _data = data;

    public sealed class Scored
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    public sealed class Masked
    {
        [VectorType]
        public float[] TokenMask { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void AFullModelSavedAndReloadedScoresWithTokenMergingAsTheCliDoes()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = _data.Data(context);
        var fitted = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainer.Options { MaxEpoch = 1 }))).Fit(train);
        var folder = Directory.CreateTempSubdirectory("tome-mlnet").FullName;
        var zip = Path.Combine(folder, "full.zip");
        context.Model.Save(fitted, train.Schema, zip);

        var loaded = (TransformerChain<ITransformer>)new MLContext().Model.Load(zip, out _);
        var steps = loaded.ToArray();
        using var full = (VisionTransformerClassifier)steps[^1];
        var prepared = new TransformerChain<ITransformer>(steps[..^1]).Transform(test);
        using var merged = full.WithTokenReduction(new TokenMergingOptions { MergedPerLayer = 2 });
        Assert.Equal(("tome", 1.0), (merged.Method, merged.KeepRatio));
        Assert.Equal(new[] { 0, 1, 2 }, merged.ReducingLayers);
        var scores = Scores(context, merged.Transform(prepared));

        // The same weights through the command line: the network as safetensors, the test images as its exact inputs.
        var rows = ImagePipelineData.RowsOf(context, test);
        var inputs = Float64Reference.ExactInputs(full.Model.Config, rows.Select(r => Path.Combine(_data.Images, r.ImagePath)));
        var weights = Path.Combine(folder, "weights.safetensors");
        SafetensorsFile.Write(weights, full.Model.NamedParameters());
        var input = Path.Combine(folder, "input.safetensors");
        var c = full.Model.Config;
        using (var batch = tensor(inputs.SelectMany(i => i.Select(v => (float)v)).ToArray(), new long[] { inputs.Count, c.InChannels, c.ImageSize, c.ImageSize }))
        {
            SafetensorsFile.Write(input, new Dictionary<string, Tensor> { ["input"] = batch });
        }

        var logitsPath = Path.Combine(folder, "logits.safetensors");
        var (code, _, stderr) = CliRunner.Run("infer", "--config", _data.ConfigPath, "--weights", weights, "--input", input, "--output", logitsPath, "--method", "tome", "--merge", "2");
        Assert.True(code == 0, stderr);
        var cli = SafetensorsFile.Read(logitsPath)["logits"].ToTensor().softmax(-1);
        var cliScores = Enumerable.Range(0, inputs.Count).Select(i => cli[i].data<float>().ToArray()).ToList();
        NumericBounds.Within("Probability", NumericBounds.LargestDifference(scores, cliScores), 2 * NumericBounds.Probability, "ML.NET WithTokenReduction against tokenidle infer --method tome");
        NumericBounds.Within("Probability", NumericBounds.LargestDifference(scores, Float64Reference.Probabilities(full.Model, merged.Reduction, inputs)), NumericBounds.Probability, "ML.NET WithTokenReduction against float64");
        // tokenidle predict and export-onnx score the zip with the method --method names (the same WithTokenReduction);
        // predict prints six decimals (±5e-7); a method flag without --method is refused.
        var images = rows.Take(6).Select(r => Path.Combine(_data.Images, r.ImagePath)).ToArray();
        (code, var stdout, stderr) = CliRunner.Run(new[] { "predict", "--model", zip, "--method", "tome", "--merge", "2" }.Concat(images).ToArray());
        Assert.True(code == 0, stderr);
        var predicted = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("probability").GetDouble()).ToList();
        for (var i = 0; i < images.Length; i++)
        {
            NumericBounds.Within("Probability", Math.Abs(predicted[i] - scores[i].Max()), 2 * NumericBounds.Probability + 5e-7, $"image {i}: predict --method tome against WithTokenReduction");
        }

        (code, stdout, stderr) = CliRunner.Run("predict", "--model", zip, "--merge", "2", images[0]);
        Assert.Equal((1, string.Empty), (code, stdout));
        Assert.Equal("tokenidle: error: --merge applies to a model.zip only with --method (the zip scores with its own method unless --method names another)", stderr.Trim());
        (code, stdout, stderr) = CliRunner.Run("export-onnx", "--model", zip, "--method", "tome", "--merge", "2", "--output", Path.Combine(folder, "tome.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Equal("tome", System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("method").GetString());

        var moved = NumericBounds.LargestDifference(scores, Scores(context, full.Transform(prepared)));
        Assert.True(moved > 20 * NumericBounds.Probability, $"merging moved no probability beyond rounding (largest move {moved})");

        // The zip of the merged classifier records the reduction; the source classifier's network is still there after the other is disposed.
        var mergedZip = Path.Combine(folder, "tome.zip");
        context.Model.Save(new TransformerChain<ITransformer>(steps[..^1].Append(merged).ToArray()), train.Schema, mergedZip);
        var reloaded = (TransformerChain<ITransformer>)new MLContext().Model.Load(mergedZip, out _);
        using var again = (VisionTransformerClassifier)reloaded.Last();
        var merging = Assert.IsType<TokenMergingForward>(again.Reduction);
        Assert.Equal(("tome", true), (again.Method, merging.ProportionalAttention));
        Assert.Equal(new[] { 2, 2, 2 }, merging.Schedule.PerLayer);
        Assert.Equal(scores, Scores(context, reloaded.Transform(test)));

        // Generated code trains what the trainer trains and says how the saved model scores.
        var generated = Path.Combine(folder, "generated");
        ConsumptionProjectGenerator.Write(mergedZip, "Merged", generated);
        var source = string.Join("\n", Directory.GetFiles(generated, "*.cs").Select(File.ReadAllText));
        Assert.Contains("mlContext.MulticlassClassification.Trainers.VisionTransformer(new VisionTransformerTrainer.Options", source);
        Assert.Contains("// the saved model scores with tome, given after training: on the fitted classifier, classifier.WithTokenReduction(new TokenMergingOptions { Schedule = new int[] { 2, 2, 2 }, ProportionalAttention = true })", source);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void TheTokenMergingTrainerFinetunesAndItsMaskHoldsMergedSizes()
    {
        var context = new MLContext(seed: 3);
        var (train, test) = _data.Data(context);
        var options = _data.Recipe(new TokenMergingImageClassificationTrainer.Options { TokenMerging = { MergedPerLayer = 3 }, TokenMaskColumnName = "TokenMask" });
        var model = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.TokenMergingImageClassification(options)).Fit(train);
        var classifier = model.OfType<VisionTransformerClassifier>().Single();
        var merging = Assert.IsType<TokenMergingForward>(classifier.Reduction);
        Assert.Equal(("tome", false), (classifier.Method, merging.ProportionalAttention));
        var scored = model.Transform(test);
        var metrics = context.MulticlassClassification.Evaluate(scored);
        Assert.True(metrics.MicroAccuracy > 0.2, $"accuracy {metrics.MicroAccuracy} after two epochs on 120 images");

        // 16 patches; 3 merges per layer leave 13, 10, 7 patch tokens: the patches' 1/size add up to the tokens left.
        Assert.Equal("Vector<Single, 3, 16>", scored.Schema["TokenMask"].Type.ToString());
        foreach (var row in context.Data.CreateEnumerable<Masked>(scored, false))
        {
            for (var layer = 0; layer < 3; layer++)
            {
                var sizes = row.TokenMask.AsSpan(layer * 16, 16).ToArray();
                Assert.All(sizes, s => Assert.InRange(s, 1, 16));
                Assert.Equal(13 - 3 * layer, sizes.Sum(s => 1 / s), 4);
            }
        }

        var zip = Path.Combine(Path.GetTempPath(), $"tome-trained-{Guid.NewGuid():N}.zip");
        context.Model.Save(model, train.Schema, zip);
        var generated = Directory.CreateTempSubdirectory("tome-generated").FullName;
        ConsumptionProjectGenerator.Write(zip, "Trained", generated);
        var code = string.Join("\n", Directory.GetFiles(generated, "*.cs").Select(File.ReadAllText));
        Assert.Contains("mlContext.MulticlassClassification.Trainers.TokenMergingImageClassification(new TokenMergingImageClassificationTrainer.Options", code);
        Assert.DoesNotContain("WithTokenReduction", code);
        Directory.Delete(generated, recursive: true);
        var loaded = new MLContext().Model.Load(zip, out _);
        Assert.Equal(Scores(context, scored), Scores(context, loaded.Transform(test)));
        Assert.False(((VisionTransformerClassifier)((TransformerChain<ITransformer>)loaded).Last()).Reduction is TokenMergingForward { ProportionalAttention: true });
        File.Delete(zip);
    }

    private static List<float[]> Scores(MLContext context, IDataView scored)
        => context.Data.CreateEnumerable<Scored>(scored, false, ignoreMissingColumns: true).Select(s => s.Score).ToList();
}
