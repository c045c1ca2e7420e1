namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary>
/// Refusals name what the user typed, in one line on standard error with exit code 1: parse errors (no help dump),
/// the flag as typed (an alias included), the file and what was expected.
/// </summary>
public class CommandLineMessagesTests
{
    private static readonly string Config = Path.Combine(RepositoryPaths.Root, "models", "fashion-mnist-vit", "config.json");
    private static readonly string Weights = Path.Combine(RepositoryPaths.Root, "models", "fashion-mnist-vit", "model.safetensors");

    private static string OneLineRefusal(params string[] args)
    {
        var lines = Refusal(args);
        Assert.Single(lines);
        return lines[0];
    }

    // Exit code 1, nothing on standard output, standard error only the tool's own lines (progress, then the error; no stack trace).
    private static string[] Refusal(params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(1, code);
        Assert.Equal(string.Empty, stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith("tokenidle: ", l));
        Assert.StartsWith("tokenidle: error: ", lines[^1]);
        return lines;
    }

    [Fact]
    public void AnUnknownFlagIsOneLineNamingItAndTheVerbsHelpNotTheWholeHelp()
    {
        Assert.Equal(
            "tokenidle: error: Unrecognized command or argument '--batchsize'; Unrecognized command or argument '8' (tokenidle bench --help lists the flags)",
            OneLineRefusal("bench", "--model", "deit-tiny", "--batchsize", "8"));
        Assert.Contains("(tokenidle --help lists the flags)", OneLineRefusal("benchh"));
    }

    [Fact]
    public void BenchTakesBatchSizeAsEveryVerbDoesAndKeepsBatch()
    {
        foreach (var flag in new[] { "--batch-size", "--batch" })
        {
            var (code, stdout, stderr) = CliRunner.Run("bench", "--model", "deit-tiny", flag, "2", "--steps", "1", "--seconds", "100", "--threads", "1");
            Assert.True(code == 0, stderr);
            Assert.Contains("\"batch\":2", stdout);
        }

        Assert.Equal("tokenidle: error: --batch must be at least 1, got 0", OneLineRefusal("bench", "--model", "deit-tiny", "--batch", "0"));
        Assert.Equal("tokenidle: error: --batch-size must be at least 1, got 0", OneLineRefusal("bench", "--model", "deit-tiny", "--batch-size", "0"));
    }

    [Fact]
    public void LimitsAndKeepRatiosNameTheFlagAsTyped()
    {
        Assert.StartsWith("tokenidle: error: --limit must be at least 1, got -1",
            OneLineRefusal("evaluate", "--config", Config, "--weights", Weights, "--data", "fashion-mnist:test", "--limit", "-1"));
        Assert.StartsWith("tokenidle: error: --validation-limit must be at least 1, got 0",
            OneLineRefusal("train", "--config", Config, "--data", "fashion-mnist:test", "--validation", "fashion-mnist:test", "--validation-limit", "0", "--output", Path.GetTempPath()));
        Assert.Equal("tokenidle: error: --keep-rate: keep ratio 2 is outside (0, 1]",
            OneLineRefusal("macs", "--model", "deit-tiny", "--method", "idle", "--keep-rate", "2"));
        Assert.Equal("tokenidle: error: --keep-ratio: keep ratio 0 is outside (0, 1]",
            OneLineRefusal("macs", "--model", "deit-tiny", "--method", "evit", "--keep-ratio", "0"));
        Assert.Equal("tokenidle: error: --layers: reduction layer 40 is outside the model's layers 0..11",
            OneLineRefusal("macs", "--model", "deit-tiny", "--method", "idle", "--layers", "1,40"));
        Assert.Equal("tokenidle: error: --batch-size must be at least 1, got -4",
            OneLineRefusal("train", "--config", Config, "--data", "fashion-mnist:test", "--batch-size", "-4", "--output", Path.GetTempPath()));
    }

    [Fact]
    public void APredictModelThatIsNotAZipIsNamedWithWhatIsExpected()
    {
        var image = Path.Combine(RepositoryPaths.Root, "samples", "data", "fashion-mnist", "test", "9-ankle-boot", "t10k-00000.png");
        Assert.Equal(
            $"tokenidle: error: '{Weights}' is safetensors weights, not a model zip; expected an ML.NET model zip (written by MLContext.Model.Save); weights are scored with their config (tokenidle infer|evaluate --config CONFIG --weights WEIGHTS)",
            OneLineRefusal("predict", "--model", Weights, image));
        Assert.Equal(
            $"tokenidle: error: '{Config}' is not a zip; expected an ML.NET model zip (written by MLContext.Model.Save)",
            OneLineRefusal("predict", "--model", Config, image));
        Assert.Contains("is not a zip; expected an ML.NET model zip", OneLineRefusal("generate", "--model", Config, "--name", "X", "--output", Path.Combine(Path.GetTempPath(), $"gen-{Guid.NewGuid():N}")));
    }

    [Fact]
    public void ATrainingRunThatCannotFitInMemoryIsRefusedBeforeItStartsNamingTheFlags()
    {
        // 12,545 tokens per image (448 px in 4-px patches): IdleViT's masked attention alone is terabytes at batch 64.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var line = Refusal("train", "--config", Config, "--weights", Weights, "--data", "fashion-mnist:test", "--method", "idle",
            "--image-size", "448", "--batch-size", "64", "--output", Path.Combine(Path.GetTempPath(), $"oom-{Guid.NewGuid():N}"))[^1];
        Assert.Matches(@"^tokenidle: error: training needs about [\d.]+ GB \(12,545 tokens per image at 448 px in 4-px patches, batch 64, float32\) and [\d.]+ GB are available: lower the image size \(--image-size\) or the batch size \(--batch-size\)$", line);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"the refusal took {started.Elapsed}");
    }
}
