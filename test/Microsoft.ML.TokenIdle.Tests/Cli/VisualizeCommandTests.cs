using System.Text.Json;
using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

public class VisualizeCommandTests
{
    [Theory]
    [InlineData("idle")]
    [InlineData("evit-fuse")]
    [InlineData("life")]
    public void VisualizeWritesOneStripPerImageWithAPanelPerReducingLayer(string method)
    {
        var set = FixtureSet.Get("micro");
        var output = Directory.CreateTempSubdirectory("visualize").FullName;
        try
        {
            var photo = Path.Combine(AppContext.BaseDirectory, "Imaging", "Data", "rocket.jpg");
            var (code, stdout, stderr) = CliRunner.Run("visualize", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--method", method, "--keep-rate", "0.5", "--output", output, photo);
            Assert.True(code == 0, stderr);
            var line = JsonDocument.Parse(stdout).RootElement;
            Assert.EndsWith($"rocket.{method}.png", line.GetProperty("output").GetString());
            var strip = ImageDecoder.Load(line.GetProperty("output").GetString()!);
            var layers = Microsoft.ML.TokenIdle.Models.TokenReduction.TokenReductionMethods.Create(
                Microsoft.ML.TokenIdle.Models.TokenReduction.TokenReductionMethods.Parse(method), set.Config, 0.5)!.Schedule.ReducingLayers.ToArray();
            Assert.Equal(layers, line.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("layer").GetInt32()));
            var panels = layers.Length + (method == "life" ? 2 : 1);
            Assert.Equal(new Microsoft.ML.TokenIdle.Visualization.TokenSelectionRenderer().PanelOrigin(panels, set.Config.ImageSize).X, strip.Width);
        }
        finally
        {
            Directory.Delete(output, true);
        }
    }

    [Fact]
    public void TheFullModelHasNothingToDraw()
    {
        var set = FixtureSet.Get("micro");
        var (code, _, stderr) = CliRunner.Run("visualize", "--config", set.ConfigPath, "--weights", set.WeightsPath, "--method", "full", "--output", Path.GetTempPath(), "x.png");
        Assert.Equal(1, code);
        Assert.Contains("reduces nothing", stderr);
    }
}
