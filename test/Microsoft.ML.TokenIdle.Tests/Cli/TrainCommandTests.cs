using System.Text.Json;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary>
/// <c>tokenidle train</c> and <c>evaluate</c> on real Fashion-MNIST images (installed by
/// eng/install-deps.sh) with a small model, so each run takes a second or two.
/// </summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("train-cli");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Config()
    {
        var path = Path.Combine(_dir.FullName, "tiny.json");
        File.WriteAllText(path, """{"img_size":28,"patch_size":7,"in_chans":1,"num_classes":10,"embed_dim":32,"depth":3,"num_heads":2}""");
        return path;
    }

    private string[] Train(string output, params string[] extra)
    {
        // No augmentation unless a test asks for it: three epochs of 512 images learn little through 8 % crops.
        var augmentation = extra.Any(a => a is "--min-crop-scale" or "--flip" or "--horizontal-flip") ? Array.Empty<string>() : new[] { "--min-crop-scale", "1", "--horizontal-flip", "false" };
        return new[] { "train", "--config", Config(), "--limit", "512", "--batch-size", "32", "--lr", "2e-3", "--seed", "3", "--threads", "1", "--output", Path.Combine(_dir.FullName, output) }.Concat(augmentation).Concat(extra).ToArray();
    }

    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement;

    [Fact]
    public void TrainWritesCheckpointsAndASummaryThatEvaluateReproduces()
    {
        var (code, stdout, stderr) = CliRunner.Run(Train("run", "--epochs", "3", "--validation", "fashion-mnist:test", "--validation-limit", "200"));
        Assert.True(code == 0, stderr);
        var summary = Json(stdout);
        var top1 = summary.GetProperty("top1").GetDouble();
        Assert.True(top1 > 0.3, $"three epochs on 512 images reach {top1:P1} on the test images (chance: 10 %)");
        Assert.Contains("epoch 3/3 done", stderr);
        Assert.Contains("validation top-1", stderr);
        var run = Path.Combine(_dir.FullName, "run");
        foreach (var file in new[] { "config.json", "best.safetensors", "last.ckpt.safetensors" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        }

        (code, stdout, stderr) = CliRunner.Run("evaluate", "--config", Path.Combine(run, "config.json"), "--weights", Path.Combine(run, "best.safetensors"), "--limit", "200", "--threads", "1");
        Assert.True(code == 0, stderr);
        var evaluation = Json(stdout);

        // The trainer's validation and evaluate score the same 200 images on two float32 paths: the mean loss moves by at
        // most twice the logit bound in each (from the largest |logit|, in float64), top-1 only by images whose float64
        // margin is within reach of both moves.
        AssertSameEvaluation(run, 200, (top1, summary.GetProperty("validation_loss").GetDouble()), evaluation, "the trainer's validation against evaluate");
        Assert.Equal(200, evaluation.GetProperty("count").GetInt32());
        Assert.True(evaluation.GetProperty("top5").GetDouble() >= top1);
        Assert.True(evaluation.GetProperty("images_per_second").GetDouble() > 0);
        Assert.Equal("full", evaluation.GetProperty("method").GetString());

        (code, stdout, stderr) = CliRunner.Run("evaluate", "--config", Path.Combine(run, "config.json"), "--weights", Path.Combine(run, "best.safetensors"), "--limit", "200", "--method", "idle", "--keep-rate", "0.5");
        Assert.True(code == 0, stderr);
        Assert.True(Json(stdout).GetProperty("gmacs").GetDouble() < evaluation.GetProperty("gmacs").GetDouble() || evaluation.GetProperty("gmacs").GetDouble() == 0);
        Assert.Equal(new[] { 17, 9, 9 }, Json(stdout).GetProperty("tokens_per_layer").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void MixedPrecisionTrainingWritesFloat32CheckpointsThatScoreInEveryPrecision()
    {
        var (code, stdout, stderr) = CliRunner.Run(Train("mixed", "--epochs", "1", "--precision", "bfloat16", "--validation", "fashion-mnist:test", "--validation-limit", "200"));
        Assert.True(code == 0, stderr);
        var summary = Json(stdout);
        Assert.Equal("bfloat16", summary.GetProperty("precision").GetString());
        var top1 = summary.GetProperty("top1").GetDouble();
        Assert.True(top1 > 0.2, $"one bfloat16 epoch on 512 images reaches {top1:P1} (chance: 10 %)");
        var run = Path.Combine(_dir.FullName, "mixed");
        Assert.All(SafetensorsFile.Read(Path.Combine(run, "best.safetensors")).Values, t => Assert.Equal("F32", t.DType));
        Assert.All(SafetensorsFile.Read(Path.Combine(run, "last.ckpt.safetensors")).Values.Where(t => !t.Name.StartsWith("trainer.", StringComparison.Ordinal)), t => Assert.Equal("F32", t.DType));

        (code, stdout, stderr) = CliRunner.Run("evaluate", "--config", Path.Combine(run, "config.json"), "--weights", Path.Combine(run, "best.safetensors"), "--limit", "200", "--precision", "bfloat16");
        Assert.True(code == 0, stderr);
        Assert.InRange(Json(stdout).GetProperty("top1").GetDouble(), top1 - 0.03, top1 + 0.03);
    }

    [Fact]
    public void ARunKilledAfterAnEpochAndResumedInANewProcessEndsWithTheWeightsOfAStraightOne()
    {
        var options = new[] { "--epochs", "2", "--drop-path", "0.2", "--min-crop-scale", "0.6", "--flip", "--mixup", "0.5" };
        var (code, _, stderr) = CliRunner.Run(Train("straight", options));
        Assert.True(code == 0, stderr);
        CliRunner.RunUntil("epoch 1/2 done", Train("split", options));

        var checkpoint = Path.Combine(_dir.FullName, "split", "last.ckpt.safetensors");
        (code, _, stderr) = CliRunner.Run(Train("split", options.Append("--resume").Append(checkpoint).ToArray()));
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming after epoch 1 of 2", stderr);
        var straight = SafetensorsFile.Read(Path.Combine(_dir.FullName, "straight", "best.safetensors"));
        var resumed = SafetensorsFile.Read(Path.Combine(_dir.FullName, "split", "best.safetensors"));
        Assert.Equal(straight.Keys.Order(), resumed.Keys.Order());
        foreach (var (name, entry) in straight)
        {
            Assert.True(entry.ToTensor().data<float>().ToArray().SequenceEqual(resumed[name].ToTensor().data<float>().ToArray()), name);
        }

        // A different length would change the schedule the first epoch ran under.
        (code, _, stderr) = CliRunner.Run(Train("split", "--epochs", "3", "--resume", checkpoint));
        Assert.Equal(1, code);
        Assert.Contains("was written by a run with Epochs = 2, this one has 3", stderr);
    }

    [Fact]
    public void AStreamedFolderRunKilledMidEpochResumesFromItsStepCheckpointToTheStraightWeights()
    {
        // 96 PNGs: 6 steps of 16 per epoch; 9 steps span two epochs; a checkpoint every 2 steps.
        var folder = Path.Combine(_dir.FullName, "images");
        Training.Data.ImageFilesTests.WriteFolder(folder, 96);
        string[] Run(string output, params string[] extra) => new[]
        {
            "train", "--config", Config(), "--data", folder, "--batch-size", "16", "--max-steps", "9", "--checkpoint-steps", "2", "--workers", "2",
            "--cache-mb", "0", "--lr", "2e-3", "--seed", "3", "--threads", "1", "--flip", "--output", Path.Combine(_dir.FullName, output),
        }.Concat(extra).ToArray();
        var (code, stdout, stderr) = CliRunner.Run(Run("straight"));
        Assert.True(code == 0, stderr);
        Assert.Equal((9, 1), (Json(stdout).GetProperty("steps").GetInt32(), Json(stdout).GetProperty("epochs").GetInt32()));
        Assert.Contains("img/s decoded", stderr);
        Assert.Contains("waiting for data", stderr);

        // Killed once step 5 is reported: the step-4 checkpoint is 4 steps into the first epoch (a busy machine may let
        // the process reach a later checkpoint before the kill lands; any of them resumes exactly).
        CliRunner.RunUntil(" 5/6 ", Run("split"));
        var checkpoint = Path.Combine(_dir.FullName, "split", "last.ckpt.safetensors");
        (code, _, stderr) = CliRunner.Run(Run("split", "--resume", checkpoint));
        Assert.True(code == 0, stderr);
        Assert.Matches("resuming after epoch (0, 4 steps into epoch 1 \\(4|1 \\(6|1, 2 steps into epoch 2 \\(8) steps in all\\)", stderr);
        var straight = SafetensorsFile.Read(Path.Combine(_dir.FullName, "straight", "best.safetensors"));
        var resumed = SafetensorsFile.Read(Path.Combine(_dir.FullName, "split", "best.safetensors"));
        foreach (var (name, entry) in straight)
        {
            Assert.True(entry.ToTensor().data<float>().ToArray().SequenceEqual(resumed[name].ToTensor().data<float>().ToArray()), name);
        }
    }

    [Fact]
    public void AnUnreadableFileMidStreamStopsWithOneLineOrIsSkippedAndCounted()
    {
        var folder = Path.Combine(_dir.FullName, "images");
        Training.Data.ImageFilesTests.WriteFolder(folder, 40);
        var bad = Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "3")).FullName, "broken.png");
        File.WriteAllText(bad, "not a png");
        string[] Run(params string[] extra) => new[] { "train", "--config", Config(), "--data", folder, "--batch-size", "8", "--threads", "1", "--output", Path.Combine(_dir.FullName, "run") }.Concat(extra).ToArray();
        var (code, _, stderr) = CliRunner.Run(Run());
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("tokenidle: error:", StringComparison.Ordinal));
        Assert.Contains($"'{bad}'", line);
        Assert.Contains("of 41)", line);
        Assert.Contains("skip-unreadable", line);

        (code, var stdout, stderr) = CliRunner.Run(Run("--skip-unreadable", "--epochs", "2"));
        Assert.True(code == 0, stderr);
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("tokenidle: skipped ", StringComparison.Ordinal) && l.Contains(bad, StringComparison.Ordinal));
        Assert.Contains("tokenidle: skipped 1 unreadable image(s) in all", stderr);
        Assert.Equal((1, 40), (Json(stdout).GetProperty("skipped_images").GetInt32(), Json(stdout).GetProperty("train_images").GetInt32()));
    }

    [Fact]
    public void IdleVitFinetuningFromTrainedWeightsUsesThePaperObjective()
    {
        var (code, _, stderr) = CliRunner.Run(Train("backbone", "--epochs", "1"));
        Assert.True(code == 0, stderr);
        var backbone = Path.Combine(_dir.FullName, "backbone", "best.safetensors");
        (code, var stdout, stderr) = CliRunner.Run(Train("idle", "--weights", backbone, "--method", "idle", "--keep-rate", "0.5", "--cut-loss", "Inter"));
        Assert.True(code == 0, stderr);
        var summary = Json(stdout);
        Assert.Equal("idle", summary.GetProperty("method").GetString());
        Assert.Equal("1,0.5,0.5", summary.GetProperty("schedule").GetString());

        // Distillation against the starting model adds to the classification loss: the idle run's loss exceeds a plain run's.
        (code, stdout, stderr) = CliRunner.Run(Train("plain", "--weights", backbone, "--method", "idle", "--keep-rate", "0.5", "--logit-weight", "0", "--feature-weight", "0", "--cut-weight", "0"));
        Assert.True(code == 0, stderr);
        Assert.True(summary.GetProperty("train_loss").GetDouble() > Json(stdout).GetProperty("train_loss").GetDouble());
    }

    [Fact]
    public void LifeRegressionStagesWriteAndReadThePredictor()
    {
        var (code, _, stderr) = CliRunner.Run(Train("backbone", "--epochs", "1"));
        Assert.True(code == 0, stderr);
        var backbone = Path.Combine(_dir.FullName, "backbone", "best.safetensors");
        (code, _, stderr) = CliRunner.Run(Train("stage1", "--weights", backbone, "--method", "life", "--keep-rate", "0.5", "--stage", "PredictorOnly"));
        Assert.True(code == 0, stderr);
        var predictor = Path.Combine(_dir.FullName, "stage1", "best.predictor.safetensors");
        Assert.True(File.Exists(predictor));
        Assert.Equal(File.ReadAllBytes(backbone), File.ReadAllBytes(Path.Combine(_dir.FullName, "stage1", "best.safetensors")));

        (code, _, stderr) = CliRunner.Run(Train("stage2", "--weights", backbone, "--method", "life", "--keep-rate", "0.5", "--predictor", predictor, "--stage", "BackboneOnly"));
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(predictor), File.ReadAllBytes(Path.Combine(_dir.FullName, "stage2", "best.predictor.safetensors")));
        Assert.NotEqual(File.ReadAllBytes(backbone), File.ReadAllBytes(Path.Combine(_dir.FullName, "stage2", "best.safetensors")));
    }

    [Fact]
    public void EvaluateReadsAnImageFolderAsTheSameImagesFromTheIdxFiles()
    {
        var (code, _, stderr) = CliRunner.Run(Train("model", "--epochs", "1"));
        Assert.True(code == 0, stderr);
        var run = Path.Combine(_dir.FullName, "model");
        var folder = Path.Combine(_dir.FullName, "images");
        var written = Microsoft.ML.TokenIdle.Tests.Training.Data.ImageFilesTests.WriteFolder(folder, 60);
        File.WriteAllText(Path.Combine(folder, written.Labels[0].ToString(System.Globalization.CultureInfo.InvariantCulture), "zz-corrupt.jpg"), "garbage");
        string[] Evaluate(params string[] data) => new[] { "evaluate", "--config", Path.Combine(run, "config.json"), "--weights", Path.Combine(run, "best.safetensors") }.Concat(data).ToArray();

        (code, _, stderr) = CliRunner.Run(Evaluate("--data", folder));
        Assert.Equal(1, code);
        Assert.Contains("zz-corrupt.jpg", stderr);

        (code, var fromFolder, stderr) = CliRunner.Run(Evaluate("--data", folder, "--skip-unreadable"));
        Assert.True(code == 0, stderr);
        Assert.Contains("skipped", stderr);
        (code, var fromIdx, stderr) = CliRunner.Run(Evaluate("--data", "fashion-mnist:test", "--limit", "60"));
        Assert.True(code == 0, stderr);
        Assert.Equal(60, Json(fromFolder).GetProperty("count").GetInt32());
        AssertSameEvaluation(run, 60, (Json(fromIdx).GetProperty("top1").GetDouble(), Json(fromIdx).GetProperty("loss").GetDouble()), Json(fromFolder), "the IDX images against the same images from PNG files");
    }

    /// <summary>
    /// Two evaluations of <paramref name="run"/>'s best weights on the first <paramref name="count"/> Fashion-MNIST test
    /// images, on two float32 paths (other batches, other order): the mean loss moves by at most twice the logit bound
    /// in each (from the largest |logit| of the float64 run), top-1 only by images whose float64 margin is within reach
    /// of both moves.
    /// </summary>
    private static void AssertSameEvaluation(string run, int count, (double Top1, double Loss) first, JsonElement second, string what)
    {
        var config = VisionTransformerConfig.Load(Path.Combine(run, "config.json"));
        using var model = VisionTransformer.Load(config, Path.Combine(run, "best.safetensors"));
        var images = FashionMnist.Load("test", size: config.ImageSize);
        var (mean, std) = Float64Reference.Normalization(config);
        var length = config.ImageSize * config.ImageSize;
        using var exact = Float64Reference.Logits(model, null, Enumerable.Range(0, count).Select(i => images.Pixels.AsSpan(i * length, length).ToArray().Select(p => (p / 255.0 - mean[0]) / std[0]).ToArray()).ToList());
        var bound = NumericBounds.Logit(exact.abs().max().item<double>());
        var undecided = Enumerable.Range(0, count).Count(b => !NumericBounds.Decided(exact[b].data<double>().ToArray(), bound));
        Assert.InRange(Math.Abs(first.Top1 - second.GetProperty("top1").GetDouble()) * count, 0, undecided + 1e-9);
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), Math.Abs(first.Loss - second.GetProperty("loss").GetDouble()), 4 * bound, $"{what}: mean loss");
    }

    [Theory]
    [InlineData("--data mnist:train", "'mnist:train' is neither fashion-mnist:train|test, an existing image folder, nor a .csv/.tsv file")]
    [InlineData("--data fashion-mnist:valid", "splits 'train' and 'test', not 'valid'")]
    [InlineData("--stage PredictorOnly", "--stage does not apply to --method full")]
    [InlineData("--epochs 0", "--epochs 0 trains nothing: score the backbone with evaluate or infer")]
    [InlineData("--epochs 1 --warmup-epochs 2", "--warmup-epochs must be in [0, --epochs], got 2")]
    [InlineData("--min-lr 1e-2", "--min-lr must be in [0, --lr], got 0.01")]
    [InlineData("--epochs -4", "--epochs must not be negative, got -4")]
    [InlineData("--image-size=-4", "--image-size must be at least 1, got -4")]
    [InlineData("--method evit --cut-weight 2", "--cut-weight does not apply to --method evit")]
    [InlineData("--validation fashion-mnist:test --validation-limit 0", "--validation-limit must be at least 1")]
    [InlineData("--validation-limit 5", "--validation-limit needs --validation")]
    [InlineData("--weights missing.safetensors", "missing.safetensors")]
    [InlineData("--max-steps 0", "--max-steps must be at least 1, got 0")]
    [InlineData("--checkpoint-steps 0", "--checkpoint-steps must be at least 1, got 0")]
    [InlineData("--workers 0", "--workers must be in [1, 256], got 0")]
    [InlineData("--prefetch 0", "--prefetch must be in [1, 1024], got 0")]
    [InlineData("--cache-mb -1", "--cache-mb must not be negative, got -1")]
    [InlineData("--precision float16", "--precision float16 applies to scoring; training runs in float32 or bfloat16 (mixed precision)")]
    [InlineData("--precision double", "precision 'double' is not one of float32, bfloat16, float16")]
    public void BadArgumentsGiveOneLineThatNamesThem(string arguments, string message)
    {
        var (code, _, stderr) = CliRunner.Run(Train("bad", arguments.Split(' ')));
        Assert.Equal(1, code);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(Path.Combine(_dir.FullName, "bad", "best.safetensors")));
    }
}
