using System.Diagnostics;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

public class InferCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tokenidle.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void InferReproducesTimmLogitsAndPrintsClasses()
    {
        var set = FixtureSet.Get("micro");
        var output = Path.Combine(Path.GetTempPath(), $"logits-{Guid.NewGuid():N}.safetensors");
        var (code, stdout, stderr) = Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", set.ExpectedPath, "--output", output, "--batch-size", "3");
        Assert.True(code == 0, stderr);
        var logits = SafetensorsFile.Read(output)["logits"].ToTensor();
        set.AssertClose("full.logits", logits, set.FloatChecks("full").First(c => c.Tensor == "full.logits").Atol);
        var expected = set.Expected["full.logits"].ToTensor();
        for (var b = 0; b < 4; b++)
        {
            var best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(expected.Data.Slice(b * 10, 10));
            Assert.Contains($"image {b}: class {best}", stdout);
        }

        File.Delete(output);
    }

    [Theory]
    [InlineData("missing.safetensors", "does not exist")]
    [InlineData("config", "holds no tensor named 'input'")]
    public void BadInputGivesOneLineErrorAndNonZeroExit(string input, string message)
    {
        var set = FixtureSet.Get("micro");
        var path = input == "config" ? set.WeightsPath : input;
        var (code, _, stderr) = Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--input", path);
        Assert.NotEqual(0, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("tokenidle: error:", stderr);
    }

    [Fact]
    public void MismatchedWeightsNameTheKey()
    {
        var set = FixtureSet.Get("micro");
        var tiny = FixtureSet.Get("deit-tiny");
        var (code, _, stderr) = Run("infer", "--config", set.ConfigPath, "--weights", tiny.WeightsPath, "--input", set.ExpectedPath);
        Assert.NotEqual(0, code);
        Assert.Contains("key '", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void BenchPrintsImagesPerSecond()
    {
        var set = FixtureSet.Get("micro");
        var (code, stdout, stderr) = Run("bench", "--config", set.ConfigPath, "--batch", "2", "--seconds", "0.2", "--threads", "1");
        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.True(json.RootElement.GetProperty("images_per_second").GetDouble() > 0);
        Assert.Equal(1, json.RootElement.GetProperty("threads").GetInt32());
    }
}
