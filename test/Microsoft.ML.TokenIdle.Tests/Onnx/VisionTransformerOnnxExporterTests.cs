using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Onnx;

/// <summary>Every method exported to ONNX and scored by ONNX Runtime gives the TorchSharp model's logits.</summary>
public sealed class VisionTransformerOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public VisionTransformerOnnxExporterTests(ITestOutputHelper output) => _output = output;

    // Every scoring case of the fixtures (the .grad and idle_train cases are training checks), and life regression, which has no reference code.
    public static TheoryData<string, string> Cases => new()
    {
        { "micro", "full" }, { "micro", "evit.r0.7" }, { "micro", "evit_fuse.r0.7" }, { "micro", "evit_fuse.r0.5" }, { "micro", "idle.k0.7" }, { "micro", "idle.k0.5" }, { "micro", "life" },
        { "deit-tiny", "full" }, { "deit-tiny", "evit.r0.7" }, { "deit-tiny", "evit_fuse.r0.7" }, { "deit-tiny", "evit_fuse.r0.5" }, { "deit-tiny", "idle.k0.7" }, { "deit-tiny", "idle.k0.5" },
        { "deit-tiny", "life" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeGivesTheTorchSharpLogits(string fixture, string name)
    {
        var set = FixtureSet.Get(fixture);
        using var model = set.LoadModel();
        model.eval();
        var strategy = Strategy(set, name);
        using var input = set.Input;
        using var expected = Logits(model, strategy, input);

        using var onnx = new MemoryStream();
        VisionTransformerOnnxExporter.Export(model, strategy, name, null, onnx, new OnnxExportOptions());
        using var session = new InferenceSession(onnx.ToArray());
        var logits = Run(session, "pixels", input)["logits"];
        Assert.Equal(expected.shape, logits.shape);
        var difference = (logits - expected).abs().max().item<float>();
        _output.WriteLine($"{fixture} {name}: max |ONNX Runtime - TorchSharp| = {difference:G3}");
        Assert.InRange(difference, 0, 1e-4f);
        if (strategy is not null)
        {
            // The reduction changes the logits far beyond the tolerance: a graph that ignored it would fail.
            using var full = Logits(model, null, input);
            Assert.True((full - expected).abs().max().item<float>() > 1e-3f);
        }
    }

    [Fact]
    public void TheGraphCanTakeRawPixelsAndGivesProbabilitiesAndMetadataAtEveryOpset()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        model.eval();
        var strategy = Strategy(set, "idle.k0.5");
        var (mean, std) = set.Config.InputNormalization();
        using var bytes = randint(0, 256, new long[] { 3, 3, set.Config.ImageSize, set.Config.ImageSize }, generator: new Generator(7)).to_type(ScalarType.Float32);
        using var normalized = (bytes / 255 - tensor(mean).reshape(1, -1, 1, 1)) / tensor(std).reshape(1, -1, 1, 1);
        using var expected = Logits(model, strategy, normalized);
        for (var opset = OnnxExportOptions.MinimumOpset; opset <= VisionTransformerOnnxExporter.MaximumOpset; opset++)
        {
            using var onnx = new MemoryStream();
            var options = new OnnxExportOptions { Opset = opset, InputName = "image", InputPixels = OnnxInputPixels.Bytes, LogitsName = "scores", ProbabilitiesName = "p" };
            VisionTransformerOnnxExporter.Export(model, strategy, "idle", new[] { "a", "b" }, onnx, options);
            using var session = new InferenceSession(onnx.ToArray());
            Assert.Equal("idle", session.ModelMetadata.CustomMetadataMap["method"]);
            Assert.Equal("[\"a\",\"b\"]", session.ModelMetadata.CustomMetadataMap["class_names"]);
            var outputs = Run(session, "image", bytes);
            Assert.InRange((outputs["scores"] - expected).abs().max().item<float>(), 0, 1e-4f);
            Assert.InRange((outputs["p"] - expected.softmax(-1)).abs().max().item<float>(), 0, 1e-5f);
        }
    }

    [Fact]
    public void InvalidOptionsAreRefusedBeforeAnythingIsWritten()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        using var onnx = new MemoryStream();
        var opset = Assert.Throws<ArgumentException>(() => VisionTransformerOnnxExporter.Export(model, null, "full", null, onnx, new OnnxExportOptions { Opset = 13 }));
        Assert.StartsWith("ONNX export: opset 13 is not supported: choose 17 to 21", opset.Message);
        var names = Assert.Throws<ArgumentException>(() => VisionTransformerOnnxExporter.Export(model, null, "full", null, onnx, new OnnxExportOptions { LogitsName = "pixels" }));
        Assert.StartsWith("ONNX export: the input and output names must be distinct and not blank", names.Message);
        Assert.Equal(0, onnx.Length);
    }

    internal static TokenReductionStrategy? Strategy(FixtureSet set, string name)
    {
        if (name == "life")
        {
            // A predictor with some structure beyond its identity start, so that the ranking is not the class-token similarity alone.
            var predictor = new LifePredictor(set.Config.EmbedDim, set.Config.LayerNormEps);
            using (no_grad())
            {
                predictor.Bilinear.weight!.add_(randn(predictor.Bilinear.weight.shape, generator: new Generator(3)) * 0.1);
            }

            predictor.eval();
            return new LifeRegressionOptions { KeepRate = 0.7, Predictor = predictor }.CreateStrategy(set.Config);
        }

        TokenReductionOptions? options = name switch
        {
            "full" => null,
            _ when name.StartsWith("idle", StringComparison.Ordinal) => new TokenIdlingOptions { Schedule = set.SettingList(name, "keep_ratio_per_layer") },
            _ => new TokenReorganizationOptions { FuseInattentive = set.Settings(name).GetProperty("fuse_token").GetBoolean(), Schedule = set.SettingList(name, "keep_rate_per_layer") },
        };
        return options?.CreateStrategy(set.Config);
    }

    internal static Tensor Logits(VisionTransformer model, TokenReductionStrategy? strategy, Tensor input)
    {
        using var noGrad = no_grad();
        return strategy is null ? model.forward(input) : strategy.Forward(model, input);
    }

    internal static Dictionary<string, Tensor> Run(InferenceSession session, string inputName, Tensor input)
    {
        var values = input.contiguous().data<float>().ToArray();
        var feed = new[] { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor(values, input.shape.Select(d => (int)d).ToArray())) };
        using var results = session.Run(feed);
        return results.ToDictionary(r => r.Name, r =>
        {
            var t = r.AsTensor<float>();
            return tensor(t.ToArray(), t.Dimensions.ToArray().Select(d => (long)d).ToArray());
        });
    }
}
