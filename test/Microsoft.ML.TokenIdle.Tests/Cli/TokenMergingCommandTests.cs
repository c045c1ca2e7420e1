using System.Text.Json;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary>
/// Token merging (ToMe) through the command line: <c>infer</c> reproduces the official code's logits, <c>macs</c> the
/// paper's figure, <c>bench</c> and <c>evaluate</c> report the schedule; the doors that do not take it yet (ONNX, training,
/// pictures) and bad schedules refuse in one line.
/// </summary>
public class TokenMergingCommandTests
{
    [Theory]
    [InlineData("tome.r8", "--merge", "8", "true")]
    [InlineData("tome.r4d", "--merge", "4,-1", "true")]
    [InlineData("tome.r8.noprop", "--merge-schedule", "8,8,8,8,8,8", "false")]
    public void InferWithTokenMergingReproducesTheReference(string name, string flag, string value, string proportional)
    {
        var set = FixtureSet.Get("micro");
        var expectedPath = Path.Combine(FixtureSet.Root, "tome", "micro", "tome-expected.safetensors");
        var output = Path.Combine(Path.GetTempPath(), $"tome-{Guid.NewGuid():N}.safetensors");
        var (code, stdout, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", expectedPath, "--output", output,
            "--method", "tome", flag, value, "--proportional-attention", proportional);
        Assert.True(code == 0, stderr);
        Assert.Contains("image 0: class", stdout);
        var cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureSet.Root, "tome", "micro", "tome-cases.json"))).RootElement;
        var atol = (float)cases.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name).GetProperty("checks")[0].GetProperty("atol").GetDouble();
        FixtureSet.AssertClose($"{name}.logits", SafetensorsFile.Read(output)["logits"].ToTensor(), atol, SafetensorsFile.Read(expectedPath)[$"{name}.logits"].ToTensor());
        File.Delete(output);
    }

    [Fact]
    public void MacsGivesThePapers27GMacsForDeitSmallAtR13AndBenchReportsTheSchedule()
    {
        var (code, stdout, stderr) = CliRunner.Run("macs", "--model", "deit-small", "--method", "tome", "--merge", "13");
        Assert.True(code == 0, stderr);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("tome", root.GetProperty("method").GetString());
        Assert.InRange(root.GetProperty("paper_gmacs").GetDouble(), 2.65, 2.75);
        Assert.Equal(string.Join(",", Enumerable.Repeat(13, 12)), root.GetProperty("merge_schedule").GetString());

        var set = FixtureSet.Get("micro");
        (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch-size", "2", "--seconds", "0.2", "--threads", "1", "--method", "tome", "--merge", "8");
        Assert.True(code == 0, stderr);
        root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(("tome", "8,8,8,8,8,8", true), (root.GetProperty("method").GetString(), root.GetProperty("merge_schedule").GetString(), root.GetProperty("proportional_attention").GetBoolean()));
        Assert.Equal(new[] { 57, 49, 41, 33, 25, 17 }, root.GetProperty("tokens_per_layer").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory]
    [InlineData("tokenidle: error: --merge: r (tokens merged per layer) must be at least 0, got -1", "macs", "--model", "deit-small", "--method", "tome", "--merge", "-1")]
    [InlineData("tokenidle: error: --merge: the inflection must be in [-1, 1], got 2", "macs", "--model", "deit-small", "--method", "tome", "--merge", "8,2")]
    [InlineData("tokenidle: error: --merge-schedule: the merge schedule has 2 entries for a model of 12 layers", "macs", "--model", "deit-small", "--method", "tome", "--merge-schedule", "1,2")]
    [InlineData("tokenidle: error: --merge applies to --method tome only, not idle", "macs", "--model", "deit-small", "--method", "idle", "--merge", "3")]
    [InlineData("tokenidle: error: --method tome needs --merge R, --merge R,INFLECTION or --merge-schedule r0,r1,…", "macs", "--model", "deit-small", "--method", "tome")]
    [InlineData("tokenidle: error: --runtime onnxruntime: --method tome has no ONNX export yet; score it with --runtime torchsharp", "bench", "--model", "deit-tiny", "--method", "tome", "--merge", "8", "--runtime", "onnxruntime")]
    [InlineData("tokenidle: error: --train --method tome: finetuning with token merging is not available yet; bench scores it (without --train)", "bench", "--model", "deit-tiny", "--method", "tome", "--merge", "8", "--train")]
    public void BadSchedulesAndDoorsWithoutTokenMergingRefuseInOneLine(string expected, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal((1, string.Empty), (code, stdout));
        Assert.Equal(expected, stderr.Trim());
    }

    [Fact]
    public void TrainRefusesTokenMergingBeforeItLooksForABackbone()
    {
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", "fashion-mnist:train", "--method", "tome", "--merge", "8", "--output", Path.Combine(Path.GetTempPath(), $"tome-train-{Guid.NewGuid():N}"));
        Assert.Equal((1, string.Empty), (code, stdout));
        Assert.Equal("tokenidle: error: --method tome (token merging) is scored by infer, evaluate, bench and macs; this command does not take it yet", stderr.Trim());
    }

    [Theory]
    [InlineData("export-onnx", "--output")]
    [InlineData("visualize", "--output")]
    public void CommandsThatDoNotTakeTokenMergingYetSaySoInOneLine(string verb, string outputFlag)
    {
        var set = FixtureSet.Get("micro");
        var output = Path.Combine(Path.GetTempPath(), $"tome-refused-{Guid.NewGuid():N}");
        var args = new List<string> { verb, "--config", set.ConfigPath, "--weights", set.WeightsPath, "--method", "tome", "--merge", "8", outputFlag, output };
        if (verb == "visualize")
        {
            args.Add(Path.Combine(RepositoryPaths.Root, "samples", "data", "fashion-mnist", "test", "9-ankle-boot", "t10k-00000.png"));
        }

        var (code, stdout, stderr) = CliRunner.Run(args.ToArray());
        Assert.Equal((1, string.Empty), (code, stdout));
        Assert.Equal("tokenidle: error: --method tome (token merging) is scored by infer, evaluate, bench and macs; this command does not take it yet", stderr.Trim());
        Assert.False(File.Exists(output) || Directory.Exists(output));
    }
}
