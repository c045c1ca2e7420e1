using System.Text.Json;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Tests.Cli;
using Microsoft.ML.TokenIdle.Visualization;

namespace Microsoft.ML.TokenIdle.Tests.Visualization;

public class TradeoffPlotTests
{
    private static readonly PlotSeries[] Series =
    {
        new("IdleViT", new[] { (4.6, 79.8), (3.1, 79.6), (2.5, 78.9) }, (214, 39, 40)),
        new("EViT", new[] { (4.6, 79.8), (3.0, 79.5), (2.3, 78.5) }, (31, 119, 180), Dashed: true),
    };

    [Fact]
    public void ThePngHasEverySeriesAndTheSvgTheSameContent()
    {
        var png = TradeoffPlot.RenderPng("trade-off", "GMACs", "top-1", Series);
        int Count((byte R, byte G, byte B) c) => Enumerable.Range(0, png.Width * png.Height).Count(i => png.Pixels[3 * i] == c.R && png.Pixels[3 * i + 1] == c.G && png.Pixels[3 * i + 2] == c.B);
        Assert.All(Series, s => Assert.True(Count(s.Colour) > 100, $"{s.Name} is barely drawn"));

        var svg = TradeoffPlot.RenderSvg("trade-off", "GMACs", "top-1", Series);
        Assert.Equal(2, svg.Split("<polyline").Length - 1);
        Assert.Contains("stroke-dasharray", svg);
        Assert.Contains(">IdleViT<", svg);
        Assert.Contains(">GMACs<", svg);
        System.Xml.Linq.XDocument.Parse(svg);
    }

    [Fact]
    public void PlotDrawsAnExperimentsResultsFileAsPngAndSvg()
    {
        var dir = Directory.CreateTempSubdirectory("plot").FullName;
        try
        {
            var lines = new List<string> { Row("backbone", 0.9, 0.072, 0), Row("bench.full.1", 0, 0, 500), Row("bench.full.2", 0, 0, 520) };
            foreach (var method in new[] { "evit-fuse", "idle", "life" })
            {
                foreach (var (k, i) in new[] { ("0.9", 0), ("0.7", 1), ("0.5", 2) })
                {
                    lines.Add(Row($"nofinetune.{method}.{k}", 0.88 - 0.02 * i, 0.065 - 0.01 * i, 0));
                    lines.Add(Row($"finetune.{method}.{k}", 0.89 - 0.01 * i, 0.065 - 0.01 * i, 0));
                    lines.Add(Row($"bench.{method}.{k}.1", 0, 0, 550 + 100 * i));
                    lines.Add(Row($"bench.{method}.{k}.2", 0, 0, 560 + 100 * i));
                }
            }

            var results = Path.Combine(dir, "results.jsonl");
            File.WriteAllLines(results, lines);
            var (code, stdout, stderr) = CliRunner.Run("plot", "--results", results, "--output", Path.Combine(dir, "out"));
            Assert.True(code == 0, stderr);
            foreach (var name in new[] { "tradeoff-gmacs", "tradeoff-throughput" })
            {
                var image = ImageDecoder.Load(Path.Combine(dir, "out", name + ".png"));
                Assert.True(image.Width > 300);
                Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, "out", name + ".svg")));
            }

            File.AppendAllText(results, "not json\n");
            (code, _, stderr) = CliRunner.Run("plot", "--results", results, "--output", Path.Combine(dir, "out"));
            Assert.Equal(1, code);
            Assert.Contains($"line {lines.Count + 1}", stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string Row(string key, double top1, double gmacs, double imagesPerSecond)
        => JsonSerializer.Serialize(new Dictionary<string, object> { ["key"] = key, ["top1"] = top1, ["gmacs"] = gmacs, ["images_per_second"] = imagesPerSecond });
}
