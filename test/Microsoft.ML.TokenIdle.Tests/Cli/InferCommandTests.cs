using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

public class InferCommandTests
{
    [Fact]
    public void InferReproducesTimmLogitsAndPrintsClasses()
    {
        var set = FixtureSet.Get("micro");
        var output = Path.Combine(Path.GetTempPath(), $"logits-{Guid.NewGuid():N}.safetensors");
        var (code, stdout, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath, "--output", output, "--batch-size", "3");
        Assert.True(code == 0, stderr);
        var logits = SafetensorsFile.Read(output)["logits"].ToTensor();
        set.AssertClose("full.logits", logits, set.FloatChecks("full").First(c => c.Tensor == "full.logits").Atol);
        var expected = set.Expected["full.logits"].ToTensor();
        for (var b = 0; b < 4; b++)
        {
            var best = expected[b].argmax().item<long>();
            Assert.Contains($"image {b}: class {best}", stdout);
        }

        File.Delete(output);
    }

    [Fact]
    public void InferInHalfPrecisionPrintsTheSameClassesAndBenchSaysFloat16()
    {
        var set = FixtureSet.Get("deit-tiny");
        var (singlePath, halfPath) = (Path.Combine(Path.GetTempPath(), $"single-{Guid.NewGuid():N}.safetensors"), Path.Combine(Path.GetTempPath(), $"half-{Guid.NewGuid():N}.safetensors"));
        var arguments = new[] { "infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath, "--method", "idle", "--keep-rate", "0.7" };
        var (code, single, stderr) = CliRunner.Run(arguments.Concat(new[] { "--output", singlePath }).ToArray());
        Assert.True(code == 0, stderr);
        (code, var half, stderr) = CliRunner.Run(arguments.Concat(new[] { "--half", "--output", halfPath }).ToArray());
        Assert.True(code == 0, stderr);
        using (var singleLogits = SafetensorsFile.Read(singlePath)["logits"].ToTensor())
        using (var halfLogits = SafetensorsFile.Read(halfPath)["logits"].ToTensor())
        {
            // float16 (11 significant bits) through twelve blocks moves these logits by a few percent of their spread
            // (3 % measured on an Intel Xeon, AVX-512); bounded at 10 %. A printed class must agree only where float32's
            // top-two margin exceeds twice the bound: random weights give near-ties, which float16 kernels
            // (AVX2, AVX512-FP16) may break either way.
            var bound = 0.1 * singleLogits.std().item<float>();
            NumericBounds.Within("Float16Logit", (singleLogits - halfLogits).abs().max().item<float>(), bound, "float16 logits against float32, as a share of their spread");
            var (singleLines, halfLines) = (single.Split('\n', StringSplitOptions.RemoveEmptyEntries), half.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(singleLines.Length, halfLines.Length);
            for (var b = 0; b < singleLogits.shape[0]; b++)
            {
                if (NumericBounds.Decided(singleLogits[b].data<float>().ToArray().Select(v => (double)v), bound))
                {
                    Assert.Equal(singleLines[b], halfLines[b]);
                }
            }
        }

        File.Delete(singlePath);
        File.Delete(halfPath);

        (code, var stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--steps", "1", "--threads", "1", "--half");
        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal("float16", json.RootElement.GetProperty("dtype").GetString());
        (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--steps", "1", "--threads", "1", "--precision", "bfloat16");
        Assert.True(code == 0, stderr);
        using var bfloat16 = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal("bfloat16", bfloat16.RootElement.GetProperty("dtype").GetString());
        (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--steps", "1", "--threads", "1", "--train", "--precision", "bfloat16");
        Assert.True(code == 0, stderr);
        using var mixed = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal("bfloat16", mixed.RootElement.GetProperty("precision").GetString());
        Assert.Equal("float32", mixed.RootElement.GetProperty("dtype").GetString());
        (code, _, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--train", "--half");
        Assert.Equal(1, code);
        Assert.Equal("tokenidle: error: --precision float16 (or --half) applies to scoring; training steps run in float32 or bfloat16 (mixed precision)", stderr.Trim());
        (code, _, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--half", "--precision", "bfloat16");
        Assert.Equal(1, code);
        Assert.Equal("tokenidle: error: --half means --precision float16, not bfloat16: give one", stderr.Trim());
    }

    [Theory]
    [InlineData("missing.safetensors", "does not exist")]
    [InlineData("config", "holds no tensor named 'input'")]
    public void BadInputGivesOneLineErrorAndNonZeroExit(string input, string message)
    {
        var set = FixtureSet.Get("micro");
        var path = input == "config" ? set.WeightsPath : input;
        var (code, _, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", path);
        Assert.NotEqual(0, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("tokenidle: error:", stderr);
    }

    [Theory]
    [InlineData("infer", "--batch-size", "0")]
    [InlineData("evaluate", "--batch-size", "0")]
    [InlineData("bench", "--batch", "0")]
    public void ACountBelowOneIsRefusedWithTheOptionsName(string verb, string option, string value)
    {
        var set = FixtureSet.Get("micro");
        var arguments = verb switch
        {
            "infer" => new[] { verb, "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath },
            "evaluate" => new[] { verb, "--config", set.ConfigPath, "--weights", set.WeightsPath, "--data", "fashion-mnist:test" },
            _ => new[] { verb, "--config", set.ConfigPath },
        };
        var (code, stdout, stderr) = CliRunner.Run(arguments.Concat(new[] { option, value }).ToArray());
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Equal($"tokenidle: error: {option} must be at least 1, got {value}", stderr.Trim());
    }

    [Fact]
    public void NonFiniteWeightsWarnWhenScoringAndStopTraining()
    {
        var set = FixtureSet.Get("micro");
        var folder = Directory.CreateTempSubdirectory("nan-weights").FullName;
        var weights = Path.Combine(folder, "nan.safetensors");
        var state = SafetensorsFile.Read(set.WeightsPath).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
        state["blocks.2.mlp.fc1.bias"][5] = float.NaN;
        SafetensorsFile.Write(weights, state);
        var (code, _, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", weights, "--input", set.ExpectedPath);
        Assert.True(code == 0, stderr);
        Assert.Contains($"tokenidle: warning: '{weights}': key 'blocks.2.mlp.fc1.bias' holds 1 non-finite value(s) (NaN or infinity); scores will be NaN", stderr);

        var images = Path.Combine(folder, "images");
        for (var c = 0; c < 10; c++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(images, c.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            Microsoft.ML.TokenIdle.Imaging.PngEncoder.Save(new Microsoft.ML.TokenIdle.Imaging.PixelImage(32, 32, 3, new byte[32 * 32 * 3]), Path.Combine(dir, "a.png"));
        }

        (code, _, stderr) = CliRunner.Run("train", "--config", set.ConfigPath, "--weights", weights, "--data", images, "--epochs", "1", "--output", Path.Combine(folder, "run"));
        Assert.Equal(1, code);
        Assert.Equal($"tokenidle: error: '{weights}': key 'blocks.2.mlp.fc1.bias' holds 1 non-finite value(s) (NaN or infinity); training cannot start from these weights", stderr.Trim().Split('\n')[^1]);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void AnAllocationLibtorchCannotServeIsOneLineWithoutTheNativeTrace()
    {
        var set = FixtureSet.Get("micro");
        var (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "200000000", "--steps", "1", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("tokenidle: error: ", stderr);
        Assert.Contains("can't allocate memory", stderr);
        Assert.DoesNotContain("frame #", stderr);
    }

    [Fact]
    public void MismatchedWeightsNameTheKey()
    {
        var set = FixtureSet.Get("micro");
        var tiny = FixtureSet.Get("deit-tiny");
        var (code, _, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", tiny.WeightsPath, "--input", set.ExpectedPath);
        Assert.NotEqual(0, code);
        Assert.Contains("key '", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void BenchPrintsImagesPerSecond()
    {
        var set = FixtureSet.Get("micro");
        var (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--seconds", "0.2", "--threads", "1");
        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.True(json.RootElement.GetProperty("images_per_second").GetDouble() > 0);
        Assert.Equal(1, json.RootElement.GetProperty("threads").GetInt32());
    }

    [Fact]
    public void BenchTrainStopsAfterTheStepsAndSamplesResidentMemory()
    {
        var set = FixtureSet.Get("micro");
        var (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--seconds", "600", "--steps", "40", "--train", "--threads", "1");
        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(40, json.RootElement.GetProperty("passes").GetInt32());
        var samples = json.RootElement.GetProperty("rss_mb_by_pass").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(new[] { "20", "40" }, samples.Keys);
        Assert.All(samples.Values, mb => Assert.InRange(mb, 1, json.RootElement.GetProperty("peak_rss_mb").GetInt64()));
        Assert.Equal("cross-entropy", json.RootElement.GetProperty("objective").GetString());

        // A method's step is its trainer's: IdleViT's with the distillation terms and the cut loss, at its Options' weights.
        (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--steps", "2", "--train", "--threads", "1", "--method", "idle");
        Assert.True(code == 0, stderr);
        var idle = new TokenIdleImageClassificationTrainer.Options();
        Assert.Equal($"cross-entropy + {idle.LogitDistillationWeight} × logit distillation + {idle.FeatureDistillationWeight} × feature distillation + {idle.CutLossWeight} × cut loss", System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("objective").GetString());
    }

    [Theory]
    [InlineData("evit_fuse.r0.7", "--method", "evit-fuse", "--schedule", "1,0.7,1,0.7,1,0.7")]
    [InlineData("evit.r0.7", "--method", "evit", "--schedule", "1,0.7,1,0.7,1,0.7")]
    [InlineData("idle.k0.5", "--method", "idle", "--keep-rate", "0.5")]
    [InlineData("idle.k0.7", "--method", "idle", "--schedule", "1,1,0.7,0.7,0.49,0.49")]
    public void InferWithAMethodReproducesTheReferenceLogits(string caseName, params string[] method)
    {
        var set = FixtureSet.Get("micro");
        var output = Path.Combine(Path.GetTempPath(), $"logits-{Guid.NewGuid():N}.safetensors");
        try
        {
            var (code, _, stderr) = CliRunner.Run(new[] { "infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath, "--output", output }.Concat(method).ToArray());
            Assert.True(code == 0, stderr);
            var (name, atol) = set.FloatChecks(caseName).First(c => c.Tensor.EndsWith(".logits", StringComparison.Ordinal));
            set.AssertClose(name, SafetensorsFile.Read(output)["logits"].ToTensor(), atol);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void InferWithLifeRegressionUsesTheGivenPredictor()
    {
        var set = FixtureSet.Get("micro");
        var predictor = new LifePredictor(set.Config.EmbedDim);
        var random = new Random(7);
        using (no_grad())
        {
            var values = Enumerable.Range(0, set.Config.EmbedDim * set.Config.EmbedDim).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            predictor.Bilinear.weight!.copy_(tensor(values, new long[] { set.Config.EmbedDim, set.Config.EmbedDim }));
        }

        var weights = Path.Combine(Path.GetTempPath(), $"predictor-{Guid.NewGuid():N}.safetensors");
        var output = Path.Combine(Path.GetTempPath(), $"logits-{Guid.NewGuid():N}.safetensors");
        try
        {
            predictor.SaveWeights(weights);
            var (code, _, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath, "--output", output, "--method", "life", "--keep-rate", "0.5", "--predictor", weights);
            Assert.True(code == 0, stderr);
            Assert.DoesNotContain("warning", stderr);
            var expected = new LifeRegressionOptions { KeepRatio = 0.5, Predictor = predictor }.CreateStrategy(set.Config).Forward(set.LoadModel(), set.Input);
            var actual = SafetensorsFile.Read(output)["logits"].ToTensor();

            // Another process with its own thread count: two float32 runs, each within the logit bound of float64.
            var bound = 2 * NumericBounds.Logit(expected.abs().max().item<float>());
            NumericBounds.Within(nameof(NumericBounds.RelativeLogit), (expected - actual).abs().max().item<float>(), bound, "infer's life-regression logits against the library's");
            Assert.NotEqual(set.Expected["full.logits"].ToTensor().data<float>().ToArray(), actual.data<float>().ToArray());
        }
        finally
        {
            File.Delete(weights);
            File.Delete(output);
        }
    }

    [Theory]
    [InlineData("unknown method 'drop': use one of full, evit, evit-fuse, idle, life", "--method", "drop")]
    [InlineData("--predictor applies to --method life only", "--method", "idle", "--predictor", "p.safetensors")]
    [InlineData("the schedule has 3 ratios but the model has 6 layers", "--method", "idle", "--schedule", "1,1,0.5")]
    [InlineData("keep ratio 1.5 is outside (0, 1]", "--method", "evit", "--keep-rate", "1.5")]
    public void BadMethodSettingsGiveOneLineErrors(string message, params string[] method)
    {
        var set = FixtureSet.Get("micro");
        var (code, _, stderr) = CliRunner.Run(new[] { "infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath }.Concat(method).ToArray());
        Assert.NotEqual(0, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
