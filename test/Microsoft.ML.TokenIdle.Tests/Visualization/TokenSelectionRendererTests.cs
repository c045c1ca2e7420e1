using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Visualization;

namespace Microsoft.ML.TokenIdle.Tests.Visualization;

/// <summary>The rendered panels against the fixtures' reference selections, cell by cell.</summary>
public class TokenSelectionRendererTests
{
    private const byte Grey = 200;

    public static TheoryData<string> Cases => new() { "idle.k0.7", "idle.k0.5", "evit_fuse.r0.7", "evit.r0.7" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BrightCellsAreExactlyTheReferenceSelection(string name)
    {
        var set = FixtureSet.Get("micro");
        var idle = name.StartsWith("idle", StringComparison.Ordinal);
        var strategy = idle
            ? new TokenIdlingOptions { Schedule = set.SettingList(name, "keep_ratio_per_layer") }.CreateStrategy(set.Config)
            : new TokenReorganizationOptions { FuseInattentive = name.Contains("fuse", StringComparison.Ordinal), Schedule = set.SettingList(name, "keep_rate_per_layer") }.CreateStrategy(set.Config);
        var trace = new TokenReductionTrace();
        strategy.Forward(set.LoadModel(), set.Input, trace);
        var renderer = new TokenSelectionRenderer();
        var config = set.Config;
        var (scale, grid) = (renderer.Scale(config.ImageSize), config.GridSize);
        var cell = config.PatchSize * scale;
        var flat = new PixelImage(config.ImageSize, config.ImageSize, 3, Enumerable.Repeat(Grey, config.ImageSize * config.ImageSize * 3).ToArray());

        // The reference: IdleViT's selected sequence positions (class first), EViT's kept sources (fused: −1).
        var references = set.IndexChecks(name).Select(c => c.Tensor).Where(t => idle || t.Contains(".src.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(references);
        var batch = set.Labels.Length;
        for (var b = 0; b < batch; b++)
        {
            var strip = renderer.Render(flat, config, trace, b);
            foreach (var tensor in references)
            {
                var layer = SelectionAssert.LayerOf(tensor);
                var panel = 1 + trace.Records.ToList().FindIndex(r => r.Layer == layer);
                var row = set.IndexRows(tensor)[b];
                var expected = (idle ? row[1..].Select(p => p - 1) : row.Where(s => s >= 0)).ToHashSet();
                var (x, y) = renderer.PanelOrigin(panel, config.ImageSize);
                for (var p = 0; p < grid * grid; p++)
                {
                    // Check every pixel of the cell: dimming must follow the patch boundaries exactly.
                    var (cx, cy) = TokenSelectionRenderer.CellOrigin(x, y, p, grid, cell);
                    for (var dy = 0; dy < cell; dy++)
                    {
                        for (var dx = 0; dx < cell; dx++)
                        {
                            if (!idle && row.Contains(-1) && p == grid - 1 && dy < cell / 2 + 5)
                            {
                                continue;
                            }

                            var value = strip.Pixels[((cy + dy) * strip.Width + cx + dx) * 3];
                            Assert.True(expected.Contains(p) ? value == Grey : value < 80, $"{name} image {b} layer {layer} patch {p} pixel ({dx},{dy}) = {value}");
                        }
                    }
                }

                if (row.Contains(-1))
                {
                    var (mx, my) = (x + grid * cell - 2, y + 1);
                    Assert.Equal((255, 140, 0), (strip.Pixels[(my * strip.Width + mx) * 3], strip.Pixels[(my * strip.Width + mx) * 3 + 1], strip.Pixels[(my * strip.Width + mx) * 3 + 2]));
                }
            }
        }
    }

    [Fact]
    public void LifeRegressionAddsALivesPanelAndTheStripRoundTripsThroughPng()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        var strategy = new LifeRegressionOptions { KeepRatio = 0.5 }.CreateStrategy(set.Config);
        var image = ImageDecoder.Load(Path.Combine(AppContext.BaseDirectory, "Imaging", "Data", "photo.jpg"));
        var (strip, trace, logits) = new TokenSelectionRenderer().Render(model, strategy, image);
        Assert.Equal(set.Config.NumPatches, trace.PatchPriorities!.Length);
        Assert.Equal(2 + trace.Records.Count, (strip.Width - 8) / (set.Config.ImageSize * new TokenSelectionRenderer().Scale(set.Config.ImageSize) + 8));
        Assert.Equal(set.Config.NumClasses, logits.Length);

        var path = Path.Combine(Path.GetTempPath(), $"strip-{Guid.NewGuid():N}.png");
        try
        {
            PngEncoder.Save(strip, path);
            var back = ImageDecoder.Load(path);
            Assert.Equal((strip.Width, strip.Height, strip.Channels), (back.Width, back.Height, back.Channels));
            Assert.Equal(strip.Pixels, back.Pixels);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
