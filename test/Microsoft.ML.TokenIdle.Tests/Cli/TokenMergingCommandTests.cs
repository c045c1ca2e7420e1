using System.Text.Json;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary>
/// Token merging (ToMe) through the command line: <c>infer</c> reproduces the official code's logits on TorchSharp and
/// ONNX Runtime, <c>macs</c> the paper's figure, <c>bench</c> reports the schedule (and trains), <c>export-onnx</c>,
/// <c>train</c> and <c>visualize</c> take it; bad schedules refuse in one line.
/// </summary>
public class TokenMergingCommandTests
{
    [Theory]
    [InlineData("tome.r8", "--merge", "8", "true", "torchsharp")]
    [InlineData("tome.r4d", "--merge", "4,-1", "true", "torchsharp")]
    [InlineData("tome.r8.noprop", "--merge-schedule", "8,8,8,8,8,8", "false", "torchsharp")]
    [InlineData("tome.r8", "--merge", "8", "true", "onnxruntime")]
    [InlineData("tome.r4d", "--merge", "4,-1", "true", "onnxruntime")]
    public void InferWithTokenMergingReproducesTheReference(string name, string flag, string value, string proportional, string runtime)
    {
        var set = FixtureSet.Get("micro");
        var expectedPath = Path.Combine(FixtureSet.Root, "tome", "micro", "tome-expected.safetensors");
        var output = Path.Combine(Path.GetTempPath(), $"tome-{Guid.NewGuid():N}.safetensors");
        var (code, stdout, stderr) = CliRunner.Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", expectedPath, "--output", output,
            "--method", "tome", flag, value, "--proportional-attention", proportional, "--runtime", runtime);
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
    [InlineData("tokenidle: error: --schedule does not apply to --method tome (its flags: --merge, --merge-schedule, --proportional-attention)", "macs", "--model", "deit-small", "--method", "tome", "--schedule", "1,1")]
    public void BadSchedulesAndDoorsWithoutTokenMergingRefuseInOneLine(string expected, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal((1, string.Empty), (code, stdout));
        Assert.Equal(expected, stderr.Trim());
    }

    [Fact]
    public void WithoutMergeTheOptionsDefaultIsUsedAndBenchTrainsWithTokenMerging()
    {
        var (code, stdout, stderr) = CliRunner.Run("macs", "--model", "deit-small", "--method", "tome");
        Assert.True(code == 0, stderr);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(string.Join(",", Enumerable.Repeat(new Microsoft.ML.TokenIdle.Models.TokenMerging.TokenMergingOptions().MergedPerLayer, 12)), root.GetProperty("merge_schedule").GetString());

        // Training merges without proportional attention unless told (the reference's advice).
        var set = FixtureSet.Get("micro");
        (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch-size", "2", "--steps", "2", "--threads", "1", "--method", "tome", "--merge", "8", "--train");
        Assert.True(code == 0, stderr);
        root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(("tome", false), (root.GetProperty("method").GetString(), root.GetProperty("proportional_attention").GetBoolean()));
    }

    /// <summary>train --method tome finetunes with merging (proportional attention off unless told) and says so in its summary.</summary>
    [Fact]
    public void TrainFinetunesWithTokenMerging()
    {
        var set = FixtureSet.Get("micro");
        var folder = Directory.CreateTempSubdirectory("tome-train").FullName;
        var images = Path.Combine(folder, "images");
        for (var c = 0; c < 10; c++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(images, c.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            var pixels = Enumerable.Range(0, 32 * 32 * 3).Select(i => (byte)(i * (c + 1))).ToArray();
            Microsoft.ML.TokenIdle.Imaging.PngEncoder.Save(new Microsoft.ML.TokenIdle.Imaging.PixelImage(32, 32, 3, pixels), Path.Combine(dir, "a.png"));
        }

        var (code, stdout, stderr) = CliRunner.Run("train", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--data", images, "--epochs", "1", "--batch-size", "5",
            "--method", "tome", "--merge", "8", "--output", Path.Combine(folder, "run"));
        Assert.True(code == 0, stderr);
        var summary = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(("tome", "8,8,8,8,8,8", false, 2L), (summary.GetProperty("method").GetString(), summary.GetProperty("merge_schedule").GetString(),
            summary.GetProperty("proportional_attention").GetBoolean(), summary.GetProperty("steps").GetInt64()));
        Assert.True(File.Exists(Path.Combine(folder, "run", "best.safetensors")) || File.Exists(Path.Combine(folder, "run", "last.ckpt.safetensors")));
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// export-onnx writes the merging graph (metadata with its schedule) that ONNX Runtime scores as TorchSharp does,
    /// in float32 and int8; visualize draws the merged regions of each merging layer.
    /// </summary>
    [Fact]
    public void ExportOnnxAndVisualizeTakeTokenMerging()
    {
        var set = FixtureSet.Get("micro");
        var folder = Directory.CreateTempSubdirectory("tome-doors").FullName;
        foreach (var quantize in new[] { "none", "int8" })
        {
            var onnx = Path.Combine(folder, $"tome-{quantize}.onnx");
            var (code, stdout, stderr) = CliRunner.Run("export-onnx", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--method", "tome", "--merge", "8", "--quantize", quantize, "--output", onnx);
            Assert.True(code == 0, stderr);
            Assert.Equal("tome", JsonDocument.Parse(stdout).RootElement.GetProperty("method").GetString());
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
            Assert.Equal(("8,8,8,8,8,8", "true"), (session.ModelMetadata.CustomMetadataMap["merged_per_layer"], session.ModelMetadata.CustomMetadataMap["proportional_attention"]));
        }

        var image = Path.Combine(RepositoryPaths.Root, "samples", "data", "fashion-mnist", "test", "9-ankle-boot", "t10k-00000.png");
        var pictures = Path.Combine(folder, "pictures");
        var (vcode, vout, verr) = CliRunner.Run("visualize", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--method", "tome", "--merge", "8", "--output", pictures, image);
        Assert.True(vcode == 0, verr);
        var line = JsonDocument.Parse(vout).RootElement;
        Assert.Equal(new[] { 56, 48, 40, 32, 24, 16 }, line.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("kept").GetInt32()));
        var strip = Microsoft.ML.TokenIdle.Imaging.ImageDecoder.Load(line.GetProperty("output").GetString()!);
        Assert.True(strip.Width > 6 * set.Config.ImageSize, $"a strip of the input and six merging layers, {strip.Width} pixels wide");
        Directory.Delete(folder, recursive: true);
    }
}
