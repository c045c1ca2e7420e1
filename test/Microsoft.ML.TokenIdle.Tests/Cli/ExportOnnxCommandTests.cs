using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary><c>tokenidle export-onnx</c> and <c>--runtime onnxruntime</c> on <c>infer</c>, <c>evaluate</c> and <c>bench</c>.</summary>
public sealed class ExportOnnxCommandTests : IClassFixture<ImagePipelineData>
{
    private readonly ImagePipelineData _data;

    public ExportOnnxCommandTests(ImagePipelineData data) => _data = data;

    [Theory]
    [InlineData("idle", "idle.k0.7")]
    [InlineData("evit-fuse", "evit_fuse.r0.7")]
    public void InferOnOnnxRuntimePrintsTheReferenceClassesAndLogits(string method, string caseName)
    {
        // Each runtime within the fixture's atol of the reference logits (the paper schedule at 0.7 is the case's); a
        // printed class is compared only where the reference's top-two margin exceeds both runtimes' possible moves.
        var set = FixtureSet.Get("deit-tiny");
        var (name, atol) = set.FloatChecks(caseName).First(c => c.Tensor.EndsWith(".logits", StringComparison.Ordinal));
        var reference = set.Expected[name].ToTensor();
        var printed = new Dictionary<string, string[]>();
        foreach (var runtime in new[] { "torchsharp", "onnxruntime" })
        {
            var output = Path.Combine(_data.Root, $"logits-{method}-{runtime}.safetensors");
            var (code, stdout, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath,
                "--method", method, "--keep-rate", "0.7", "--runtime", runtime, "--threads", "1", "--output", output);
            Assert.True(code == 0, stderr);
            printed[runtime] = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            set.AssertClose(name, SafetensorsFile.Read(output)["logits"].ToTensor(), atol);
        }

        for (var b = 0; b < reference.shape[0]; b++)
        {
            if (NumericBounds.Decided(reference[b].data<float>().ToArray().Select(v => (double)v), atol))
            {
                Assert.All(printed.Values, lines => Assert.Equal($"image {b}: class {reference[b].argmax().item<long>()}", lines[b]));
            }
        }
    }

    [Fact]
    public void EvaluateAndBenchRunOnOnnxRuntimeAndSaySo()
    {
        var config = Path.Combine(RepositoryPaths.Root, "models", "fashion-mnist-vit", "config.json");
        var weights = Path.Combine(RepositoryPaths.Root, "models", "fashion-mnist-vit", "model.safetensors");
        var data = Path.Combine(RepositoryPaths.Root, "samples", "data", "fashion-mnist", "test");
        var reports = new Dictionary<string, JsonElement>();
        foreach (var runtime in new[] { "torchsharp", "onnxruntime" })
        {
            var (code, stdout, stderr) = CliRunner.Run("evaluate", "--config", config, "--weights", weights, "--data", data, "--limit", "60", "--method", "idle", "--keep-rate", "0.7", "--runtime", runtime);
            Assert.True(code == 0, stderr);
            reports[runtime] = JsonDocument.Parse(stdout).RootElement.Clone();
        }

        Assert.Equal("onnxruntime", reports["onnxruntime"].GetProperty("runtime").GetString());

        // Two float32 runtimes: a log-probability moves by at most twice the logit bound in each, so the mean loss by at
        // most four times it between them (the bound from the largest |logit| over the folder's images, in float64), and
        // top-1 only by images whose float64 margin is within reach of those moves.
        var configFile = VisionTransformerConfig.Load(config);
        using var model = VisionTransformer.Load(configFile, weights);
        model.eval();
        var strategy = TokenReductionMethods.Create(TokenReductionMethod.Idle, configFile, 0.7);
        using var exact = Float64Reference.Logits(model, strategy, Float64Reference.ExactInputs(configFile, Directory.GetFiles(data, "*.png", SearchOption.AllDirectories)));
        var bound = NumericBounds.Logit(exact.abs().max().item<double>());
        var undecided = Enumerable.Range(0, (int)exact.shape[0]).Count(b => !NumericBounds.Decided(exact[b].data<double>().ToArray(), bound));
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), Math.Abs(reports["torchsharp"].GetProperty("loss").GetDouble() - reports["onnxruntime"].GetProperty("loss").GetDouble()), 4 * bound, "evaluate's mean loss on TorchSharp against ONNX Runtime");
        Assert.InRange(Math.Abs(reports["torchsharp"].GetProperty("top1").GetDouble() - reports["onnxruntime"].GetProperty("top1").GetDouble()) * 60, 0, undecided + 1e-9);

        var (benchCode, bench, benchError) = CliRunner.Run("bench", "--config", config, "--batch", "4", "--steps", "2", "--threads", "1", "--runtime", "onnxruntime", "--method", "life");
        Assert.True(benchCode == 0, benchError);
        using var json = JsonDocument.Parse(bench);
        Assert.Equal("onnxruntime", json.RootElement.GetProperty("runtime").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("passes").GetInt32());
        // Every figure says what it was measured on.
        Assert.Equal(Microsoft.ML.TokenIdle.Engine.CpuFeatures.Model, json.RootElement.GetProperty("cpu").GetString());
        Assert.Equal(string.Join(' ', Microsoft.ML.TokenIdle.Engine.CpuFeatures.Features), json.RootElement.GetProperty("cpu_features").GetString());
        Assert.Equal("float32", reports["onnxruntime"].GetProperty("dtype").GetString());
        Assert.True(reports["onnxruntime"].TryGetProperty("cpu_features", out _));
    }

    [Fact]
    public void Int8ExportAndScoringSayTheyAreInt8AndStayNearFloat32()
    {
        var config = Path.Combine(RepositoryPaths.Root, "models", "fashion-mnist-vit", "config.json");
        var weights = Path.Combine(RepositoryPaths.Root, "models", "fashion-mnist-vit", "model.safetensors");
        var data = Path.Combine(RepositoryPaths.Root, "samples", "data", "fashion-mnist", "test");
        var onnx = Path.Combine(_data.Root, "fashion-idle-int8.onnx");
        var (code, stdout, stderr) = CliRunner.Run("export-onnx", "--config", config, "--weights", weights, "--method", "idle", "--keep-rate", "0.7", "--quantize", "int8", "--output", onnx);
        Assert.True(code == 0, stderr);
        Assert.Equal("int8", JsonDocument.Parse(stdout).RootElement.GetProperty("quantize").GetString());
        using (var session = new InferenceSession(onnx))
        {
            Assert.StartsWith("dynamic_int8:", session.ModelMetadata.CustomMetadataMap["quantization"]);
        }

        var top1 = new Dictionary<string, double>();
        foreach (var quantize in new[] { "none", "int8" })
        {
            (code, stdout, stderr) = CliRunner.Run("evaluate", "--config", config, "--weights", weights, "--data", data, "--method", "idle", "--keep-rate", "0.7", "--runtime", "onnxruntime", "--quantize", quantize);
            Assert.True(code == 0, stderr);
            var report = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(quantize, report.GetProperty("quantize").GetString());
            top1[quantize] = report.GetProperty("top1").GetDouble();
        }

        // 300 sample images: one image is 0.33 point; int8 moved the 10,000-image top-1 by 0.1 point (docs/onnx.md).
        NumericBounds.Within("Int8Top1", Math.Abs(top1["int8"] - top1["none"]), 0.011, "int8 top-1 against float32 on ONNX Runtime");
        (code, stdout, stderr) = CliRunner.Run("bench", "--config", config, "--batch", "4", "--steps", "2", "--threads", "1", "--runtime", "onnxruntime", "--quantize", "int8", "--method", "evit-fuse");
        Assert.True(code == 0, stderr);
        Assert.Equal("int8", JsonDocument.Parse(stdout).RootElement.GetProperty("quantize").GetString());
    }

    [Theory]
    [InlineData("--quantize int8 applies to --runtime onnxruntime", "infer", "--quantize", "int8")]
    [InlineData("--quantize 'int4' is not one of none, int8", "infer", "--runtime", "onnxruntime", "--quantize", "int4")]
    [InlineData("the ONNX export is float32", "infer", "--runtime", "onnxruntime", "--half")]
    [InlineData("--runtime 'tensorflow' is not one of torchsharp, onnxruntime", "infer", "--runtime", "tensorflow")]
    [InlineData("--train runs on --runtime torchsharp; ONNX Runtime scores only", "bench", "--runtime", "onnxruntime", "--train")]
    [InlineData("--device cuda:1 --runtime onnxruntime: ONNX Runtime's CUDA execution provider is not available here", "infer", "--runtime", "onnxruntime", "--device", "cuda:1")]
    public void OnnxRuntimeRefusesWhatItCannotDoInOneLine(string message, string verb, params string[] extra)
    {
        var set = FixtureSet.Get("micro");
        var arguments = new[] { verb, "--config", set.ConfigPath, "--weights", set.WeightsPath }.Concat(verb == "infer" ? new[] { "--input", set.ExpectedPath } : Array.Empty<string>());
        var (code, _, stderr) = CliRunner.Run(arguments.Concat(extra).ToArray());
        Assert.Equal(1, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void ExportWritesAModelOnnxRuntimeScoresFromFilesOrAZipAndNothingOnFailure()
    {
        var set = FixtureSet.Get("micro");
        var onnx = Path.Combine(_data.Root, "micro-life.onnx");
        var (code, stdout, stderr) = CliRunner.Run("export-onnx", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--method", "life", "--keep-rate", "0.5", "--output", onnx, "--opset", "18");
        Assert.True(code == 0, stderr);
        Assert.Equal(18, JsonDocument.Parse(stdout).RootElement.GetProperty("opset").GetInt32());
        using (var session = new InferenceSession(onnx))
        {
            Assert.Equal("life", session.ModelMetadata.CustomMetadataMap["method"]);
            Assert.Equal(new[] { -1, 3, 32, 32 }, session.InputMetadata["pixels"].Dimensions);
        }

        // A zip carries its method, weights and class names.
        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var classifier = _data.Prepare(context)
            .Append(context.MulticlassClassification.Trainers.TokenIdleImageClassification(_data.Recipe(new TokenIdleImageClassificationTrainer.Options { MaxEpoch = 1 })))
            .Fit(train);
        var zip = Path.Combine(_data.Root, "export.zip");
        context.Model.Save(classifier, train.Schema, zip);
        var fromZip = Path.Combine(_data.Root, "from-zip.onnx");
        (code, _, stderr) = CliRunner.Run("export-onnx", "--model", zip, "--output", fromZip, "--input-pixels", "bytes");
        Assert.True(code == 0, stderr);
        using (var session = new InferenceSession(fromZip))
        {
            Assert.Equal("idle", session.ModelMetadata.CustomMetadataMap["method"]);
            Assert.Equal(JsonSerializer.Serialize(classifier.LastTransformer.ClassNames), session.ModelMetadata.CustomMetadataMap["class_names"]);
        }

        // --method scores the zip with another method (the classifier's WithTokenReduction); its weights stay the zip's.
        (code, _, stderr) = CliRunner.Run("export-onnx", "--model", zip, "--method", "evit", "--output", fromZip);
        Assert.True(code == 0, stderr);
        using (var session = new InferenceSession(fromZip))
        {
            Assert.Equal("evit", session.ModelMetadata.CustomMetadataMap["method"]);
        }

        (code, _, stderr) = CliRunner.Run("export-onnx", "--model", zip, "--weights", set.WeightsPath, "--output", fromZip);
        Assert.Equal(1, code);
        Assert.Contains("--weights does not apply to a model.zip: it carries its own weights", stderr);

        var refused = Path.Combine(_data.Root, "refused.onnx");
        (code, _, stderr) = CliRunner.Run("export-onnx", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--output", refused, "--opset", "99");
        Assert.Equal(1, code);
        Assert.Contains("opset 99 is not supported: choose 17 to 21", stderr);
        Assert.False(File.Exists(refused));
        Assert.Empty(Directory.GetFiles(_data.Root, ".refused.onnx.*"));
    }
}
