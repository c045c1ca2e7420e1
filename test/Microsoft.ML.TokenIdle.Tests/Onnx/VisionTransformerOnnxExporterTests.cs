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

        // Two float32 runtimes: each within float32 rounding of the float64 run of the same network and method.
        using var exact = Float64Reference.Logits(model, strategy, Float64Reference.Rows(input));
        var (onnxError, bound) = Float64Reference.LogitError(logits, exact);
        var (torchError, _) = Float64Reference.LogitError(expected, exact);
        _output.WriteLine($"{fixture} {name}: max |logit - float64|: ONNX Runtime {onnxError:G3}, TorchSharp {torchError:G3} (bound {bound:G3})");
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), onnxError, bound, $"{fixture} {name}: ONNX Runtime's logits against float64");
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), torchError, bound, $"{fixture} {name}: TorchSharp's logits against float64");
        if (strategy is not null)
        {
            // The reduction changes the logits far beyond the bound: a graph that ignored it would fail.
            using var full = Logits(model, null, input);
            Assert.True((full - expected).abs().max().item<float>() > 10 * bound);
        }
    }

    public static TheoryData<string, string> Compositions
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var selector in new[] { "class-attention", "class-query-key", "life" })
            {
                foreach (var reduction in new[] { "idle", "drop-after-attention", "fuse-after-attention", "drop-before-block", "fuse-before-block" })
                {
                    data.Add(selector, reduction);
                }
            }

            return data;
        }
    }

    /// <summary>
    /// Every pairing of a selector and a reduction runs (StrategyCompositionTests), so every pairing exports: the graph
    /// each method writes for itself scores what its forward pass scores, within float32 rounding of the float64 run.
    /// </summary>
    [Theory]
    [MemberData(nameof(Compositions))]
    public void EveryCompositionExportsWhatItScores(string selectorName, string reductionName)
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        model.eval();
        var ratios = new[] { 1.0, 1, 0.6, 1, 0.6, 1 };
        var schedule = new TokenSchedule(ratios);
        ITokenSelector selector = selectorName switch
        {
            "class-attention" => new ClassAttentionSelector(),
            "class-query-key" => new ClassQueryKeySelector(),
            _ => Strategy(set, "life")!.Selector,
        };
        ITokenReduction reduction = reductionName switch
        {
            "idle" => new TokenIdling(),
            "drop-after-attention" => new TokenDropping(false, DropPoint.AfterAttention),
            "fuse-after-attention" => new TokenDropping(true, DropPoint.AfterAttention),
            "drop-before-block" => new TokenDropping(false, DropPoint.BeforeBlock),
            _ => new TokenDropping(true, DropPoint.BeforeBlock),
        };
        var strategy = new TokenReductionStrategy(selector, reduction, schedule);
        using var input = set.Input;
        using var expected = Logits(model, strategy, input);
        using var onnx = new MemoryStream();
        VisionTransformerOnnxExporter.Export(model, strategy, strategy.Name, null, onnx, new OnnxExportOptions());
        using var session = new InferenceSession(onnx.ToArray());
        using var exact = Float64Reference.Logits(model, strategy, Float64Reference.Rows(input));
        var (onnxError, bound) = Float64Reference.LogitError(Run(session, "pixels", input)["logits"], exact);
        var (torchError, _) = Float64Reference.LogitError(expected, exact);
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), onnxError, bound, $"{strategy.Name}: ONNX Runtime's logits against float64");
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), torchError, bound, $"{strategy.Name}: TorchSharp's logits against float64");
        using var full = Logits(model, null, input);
        Assert.True((full - expected).abs().max().item<float>() > 10 * bound, $"{strategy.Name} changes the logits");
    }

    /// <summary>A method part without a graph form is refused in one line before anything is written.</summary>
    [Fact]
    public void APartWithoutAGraphFormIsRefusedBeforeAnythingIsWritten()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        var strategy = new TokenReductionStrategy(new NoGraphSelector(), new TokenIdling(), new TokenIdlingOptions().BuildSchedule(set.Config.Depth));
        using var onnx = new MemoryStream();
        var e = Assert.Throws<ArgumentException>(() => VisionTransformerOnnxExporter.Export(model, strategy, "custom", null, onnx, new OnnxExportOptions()));
        Assert.Equal("ONNX export: the token selector 'no-graph' has no ONNX form", e.Message);
        Assert.Equal(0, onnx.Length);
    }

    // A user's selector written for the forward pass only.
    private sealed class NoGraphSelector : ITokenSelector
    {
        public string Name => "no-graph";

        public TokenState Prepare(int layer, TokenState state) => state;

        public Tensor Score(int layer, TokenState state, Tensor normed, Microsoft.ML.TokenIdle.Nn.Attention attention) => normed[.., 1.., 0];

        public Tensor? SoftKeyWeights(int layer, TokenState state) => null;

        public long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config) => 0;
    }

    /// <summary>
    /// int8 (weights ±63 per output channel, activations per tensor at run time) against the float32 export of the same
    /// case, both on ONNX Runtime. On these random-weight fixtures the full model's logits move by 6–18 % of their
    /// spread (standard deviation); a reduced model also inherits token-selection flips among near-tied scores (random
    /// weights make class attention almost uniform), which moved them by up to 46 % (measured on an Intel Xeon,
    /// AVX-512 VNNI; the integer products are exact on every x86 CPU, so only float rounding differs elsewhere).
    /// Tolerance: 55 % of the spread. Every reduction moves the logits by more than that (73–146 %), so an int8 graph
    /// that ignored the reduction would fail. Token selection at the first reducing layer (where only quantisation noise
    /// has reached the scores): a patch whose float32 score lies farther from the kept/not-kept threshold than twice
    /// the largest score move cannot change side unless the graph selects from other scores; it must not. The trained
    /// model's test below holds selection to a fixed margin.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void TheInt8ExportStaysNearTheFloat32ExportAndKeepsItsTokens(string fixture, string name)
    {
        const float Tolerance = 0.55f;
        var set = FixtureSet.Get(fixture);
        using var model = set.LoadModel();
        model.eval();
        var strategy = Strategy(set, name);
        using var input = set.Input;
        var single = ExportWithSelectionScores(model, strategy, name, input, OnnxQuantization.None);
        var int8 = ExportWithSelectionScores(model, strategy, name, input, OnnxQuantization.DynamicInt8);
        var error = (int8["logits"] - single["logits"]).abs().max().item<float>() / single["logits"].std().item<float>();
        _output.WriteLine($"{fixture} {name}: max |int8 - float32| = {error:P1} of the logits' spread");
        NumericBounds.Within("Int8RelativeLogit", error, Tolerance, $"{fixture} {name}: int8 logits against float32 as a share of their spread");
        if (strategy is null)
        {
            return;
        }

        using var full = Logits(model, null, input);
        var reduction = (full - single["logits"]).abs().max().item<float>() / single["logits"].std().item<float>();
        _output.WriteLine($"{fixture} {name}: the reduction moves the logits by {reduction:P1} of their spread");
        Assert.True(reduction > Tolerance, $"the reduction moves the logits by {reduction:P1}, not beyond the int8 tolerance {Tolerance:P0}");

        var scoreMove = (int8["selection_scores"] - single["selection_scores"]).abs().max(1, keepdim: true).values;
        var (agreeing, clear) = SelectionAgreement(set.Config, strategy, single["selection_scores"], int8["selection_scores"], 2 * scoreMove);
        _output.WriteLine($"{fixture} {name}: {clear} patch decisions clear of the threshold, {agreeing} of them the same in int8");
        Assert.True(clear > 0, "no patch decision is clear of the threshold");
        Assert.Equal(clear, agreeing);
    }

    /// <summary>
    /// The shipped Fashion-MNIST model (trained, so its token scores mean something) on 256 test images in one batch:
    /// the int8 export's logits move on average by under 5 % of the float32 export's spread (1.2 % for IdleViT, 1.7 % for
    /// EViT-fuse measured), its class agrees for at least 97 % of the images (100 % and 98.4 % measured: a few images
    /// whose later selections are near-tied move further), and at the first reducing layer every patch whose float32
    /// score lies farther than 10 % of the scores' spread from the kept/not-kept threshold keeps its side.
    /// </summary>
    [Theory]
    [InlineData("idle")]
    [InlineData("evit-fuse")]
    public void TheInt8ExportOfTheTrainedModelKeepsItsLogitsAndTokens(string method)
    {
        var files = PretrainedModels.FashionMnist();
        var config = VisionTransformerConfig.Load(files.ConfigPath);
        using var model = VisionTransformer.Load(config, files.WeightsPath);
        model.eval();
        TokenReductionOptions options = method == "idle" ? new TokenIdlingOptions { KeepRatio = 0.7 } : new TokenReorganizationOptions { KeepRatio = 0.7, FuseInattentive = true };
        var strategy = options.CreateStrategy(config);
        var images = Microsoft.ML.TokenIdle.Training.Data.FashionMnist.Load("test", size: config.ImageSize);
        var (mean, std) = config.InputNormalization();
        var length = config.ImageSize * config.ImageSize;
        using var input = (tensor(images.Pixels.AsSpan(0, 256 * length).ToArray(), new long[] { 256, 1, config.ImageSize, config.ImageSize }).to_type(ScalarType.Float32) / 255 - mean[0]) / std[0];
        var single = ExportWithSelectionScores(model, strategy, method, input, OnnxQuantization.None);
        var int8 = ExportWithSelectionScores(model, strategy, method, input, OnnxQuantization.DynamicInt8);
        var meanError = (int8["logits"] - single["logits"]).abs().mean().item<float>() / single["logits"].std().item<float>();
        var agreeingClasses = single["logits"].argmax(-1).eq(int8["logits"].argmax(-1)).sum().item<long>();
        var (agreeing, clear) = SelectionAgreement(config, strategy, single["selection_scores"], int8["selection_scores"], 0.1 * single["selection_scores"].std(1, keepdim: true));
        _output.WriteLine($"{method}: mean |int8 - float32| = {meanError:P2} of the logits' spread; classes agree for {agreeingClasses}/256; {clear} clear patch decisions, {agreeing} the same");
        NumericBounds.Within("Int8MeanRelativeLogit", meanError, 0.05, $"{method}: mean int8 logit move as a share of float32's spread");
        NumericBounds.Within("Int8ClassChange", 256 - agreeingClasses, 7, $"{method}: images whose int8 class differs from float32's, of 256");
        Assert.True(clear > single["selection_scores"].numel() / 2, $"only {clear} patch decisions are clear of the threshold");
        Assert.Equal(clear, agreeing);
    }

    [Fact]
    public void TheInt8GraphQuantisesEveryWeightProductOnceAndSaysSo()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        var strategy = Strategy(set, "idle.k0.7");
        using var single = new MemoryStream();
        VisionTransformerOnnxExporter.Export(model, strategy, "idle", null, single, new OnnxExportOptions());
        using var int8 = new MemoryStream();
        VisionTransformerOnnxExporter.Export(model, strategy, "idle", null, int8, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(int8.ToArray());

        // qkv, proj, fc1 and fc2 of every block and the head; the ranking reads the dequantised qkv weight, no float copy.
        Assert.Equal(4 * set.Config.Depth + 1, proto.Graph.Node.Count(n => n.OpType == "MatMulInteger"));
        Assert.Equal(4 * set.Config.Depth + 1, proto.Graph.Node.Count(n => n.OpType == "DynamicQuantizeLinear"));
        Assert.DoesNotContain(proto.Graph.Initializer, i => i.Name.EndsWith("weight.T", StringComparison.Ordinal));
        var weights = proto.Graph.Initializer.Where(i => i.DataType == (int)global::Onnx.TensorProto.Types.DataType.Int8 && i.Dims.Count == 2).ToList();
        Assert.Equal(4 * set.Config.Depth + 1, weights.Count);
        Assert.All(weights, w => Assert.All(w.RawData.ToByteArray(), b => Assert.InRange((sbyte)b, -VisionTransformerOnnxExporter.QuantizedWeightLimit, VisionTransformerOnnxExporter.QuantizedWeightLimit)));
        Assert.StartsWith("dynamic_int8:", proto.MetadataProps.Single(p => p.Key == "quantization").Value);
        Assert.Equal("none", global::Onnx.ModelProto.Parser.ParseFrom(single.ToArray()).MetadataProps.Single(p => p.Key == "quantization").Value);
        Assert.True(int8.Length < single.Length * 0.45, $"int8 {int8.Length} bytes, float32 {single.Length}");
    }

    /// <summary>
    /// At the first reducing layer: of the patch decisions (kept or not) whose float32 score is farther than
    /// <paramref name="margin"/> ([B, 1]) from the threshold between the k-th and (k+1)-th score, how many the int8
    /// scores decide the same way, and how many there are.
    /// </summary>
    private static (long Agreeing, long Clear) SelectionAgreement(VisionTransformerConfig config, TokenReductionStrategy strategy, Tensor single, Tensor int8, Tensor margin)
    {
        var layer = Enumerable.Range(0, config.Depth).First(l => strategy.Plan(config)[l].Reducing);
        var kept = strategy.Reduction.KeptCount(strategy.Schedule.Ratios[layer], config.NumPatches);
        Tensor Threshold(Tensor scores)
        {
            var sorted = scores.sort(1, descending: true).Values;
            return ((sorted[.., kept - 1] + sorted[.., kept]) / 2).unsqueeze(1);
        }

        var (threshold, thresholdInt8) = (Threshold(single), Threshold(int8));
        var clear = (single - threshold).abs() > margin;
        var same = (single > threshold).eq(int8 > thresholdInt8);
        return ((same & clear).sum().item<long>(), clear.sum().item<long>());
    }

    /// <summary>The export scored by ONNX Runtime, with the input of its first TopK (the first reducing layer's patch scores) as an extra output.</summary>
    private static Dictionary<string, Tensor> ExportWithSelectionScores(VisionTransformer model, TokenReductionStrategy? strategy, string name, Tensor input, OnnxQuantization quantization)
    {
        using var onnx = new MemoryStream();
        VisionTransformerOnnxExporter.Export(model, strategy, name, null, onnx, new OnnxExportOptions { Quantization = quantization });
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(onnx.ToArray());
        if (proto.Graph.Node.FirstOrDefault(n => n.OpType == "TopK") is { } topK)
        {
            proto.Graph.Node.Add(new global::Onnx.NodeProto { OpType = "Identity", Name = "selection_scores_output", Input = { topK.Input[0] }, Output = { "selection_scores" } });
            proto.Graph.Output.Add(new global::Onnx.ValueInfoProto
            {
                Name = "selection_scores",
                Type = new global::Onnx.TypeProto { TensorType = new global::Onnx.TypeProto.Types.Tensor { ElemType = (int)global::Onnx.TensorProto.Types.DataType.Float } },
            });
        }

        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(proto));
        return Run(session, "pixels", input);
    }

    [Fact]
    public void TheGraphCanTakeRawPixelsAndGivesProbabilitiesAndMetadataAtEveryOpset()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        model.eval();
        var strategy = Strategy(set, "idle.k0.5");
        var (mean, std) = Float64Reference.Normalization(set.Config);
        using var bytes = randint(0, 256, new long[] { 3, 3, set.Config.ImageSize, set.Config.ImageSize }, generator: new Generator(7)).to_type(ScalarType.Float32);
        using var exactInputs = (bytes.to_type(ScalarType.Float64) / 255 - tensor(mean).reshape(1, -1, 1, 1)) / tensor(std).reshape(1, -1, 1, 1);
        using var expected = Float64Reference.Logits(model, strategy, Float64Reference.Rows(exactInputs));
        using var probabilities = expected.softmax(-1);
        for (var opset = OnnxExportOptions.MinimumOpset; opset <= VisionTransformerOnnxExporter.MaximumOpset; opset++)
        {
            using var onnx = new MemoryStream();
            var options = new OnnxExportOptions { Opset = opset, InputName = "image", InputPixels = OnnxInputPixels.Bytes, LogitsName = "scores", ProbabilitiesName = "p" };
            VisionTransformerOnnxExporter.Export(model, strategy, "idle", new[] { "a", "b" }, onnx, options);
            using var session = new InferenceSession(onnx.ToArray());
            Assert.Equal("idle", session.ModelMetadata.CustomMetadataMap["method"]);
            Assert.Equal("[\"a\",\"b\"]", session.ModelMetadata.CustomMetadataMap["class_names"]);
            var outputs = Run(session, "image", bytes);
            var (error, bound) = Float64Reference.LogitError(outputs["scores"], expected);
            NumericBounds.Within(nameof(NumericBounds.RelativeLogit), error, bound, $"opset {opset}: logits of the byte input against float64");
            NumericBounds.Within(nameof(NumericBounds.Probability), (outputs["p"].to_type(ScalarType.Float64) - probabilities).abs().max().item<double>(), NumericBounds.Probability, $"opset {opset}: probabilities of the byte input against float64");
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
            return new LifeRegressionOptions { KeepRatio = 0.7, Predictor = predictor }.CreateStrategy(set.Config);
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
