using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.Tests.Models;

public class MacsCounterTests
{
    private static readonly VisionTransformerConfig DeitSmall = VisionTransformerConfig.DeitSmall;

    [Fact]
    public void FullDeitSmallIs4Point6G()
    {
        var report = MacsCounter.Count(DeitSmall);
        Assert.Equal(4.6, report.PaperGMacs, 0.1);
        Assert.Equal(report.PaperMacs, report.ExecutedMacs);
    }

    [Theory]
    [InlineData(0.9, 4.0)]
    [InlineData(0.8, 3.5)]
    [InlineData(0.7, 3.1)]
    [InlineData(0.6, 2.7)]
    [InlineData(0.5, 2.4)]
    public void IdleVitTableIsReproduced(double k, double gmacs)
    {
        var report = MacsCounter.Count(DeitSmall, new TokenIdlingOptions { KeepRatio = k }.CreateStrategy(DeitSmall));
        Assert.InRange(report.PaperGMacs, gmacs - 0.1, gmacs + 0.1);

        // Choosing tokens costs a little more than the papers count; queries and keys of idle tokens are never computed.
        Assert.InRange(report.ExecutedGMacs - report.PaperGMacs, 0.0, 0.05);
    }

    [Theory]
    [InlineData(0.9, 4.0)]
    [InlineData(0.8, 3.5)]
    [InlineData(0.7, 3.0)]
    [InlineData(0.6, 2.6)]
    [InlineData(0.5, 2.3)]
    public void EvitWithFusionTableIsReproduced(double k, double gmacs)
    {
        var report = MacsCounter.Count(DeitSmall, new TokenReorganizationOptions { KeepRatio = k, FuseInattentive = true }.CreateStrategy(DeitSmall));
        Assert.InRange(report.PaperGMacs, gmacs - 0.1, gmacs + 0.1);
        Assert.InRange(report.ExecutedGMacs - report.PaperGMacs, 0.0, 0.05);
    }

    [Fact]
    public void CountsFollowTheTokensOfEachPart()
    {
        // EViT at 0.7 on DeiT-S: layer 3 attends over 197 tokens, its MLP runs on 1 + 138 + 1 fused.
        var plan = MacsCounter.Count(DeitSmall, new TokenReorganizationOptions { KeepRatio = 0.7 }.CreateStrategy(DeitSmall)).Layers;
        Assert.Equal(new LayerTokenCounts(197, 197, 197, 140, 140, 58, true), plan[3]);
        Assert.Equal(LayerTokenCounts.Plain(140), plan[4]);

        // Life regression slims before the block: 197 → 139 → 98 → 69 tokens at layers 4, 7, 10.
        var life = MacsCounter.Count(DeitSmall, new LifeRegressionOptions { KeepRatio = 0.7 }.CreateStrategy(DeitSmall));
        Assert.Equal(new[] { 197, 197, 197, 197, 139, 139, 139, 98, 98, 98, 69, 69 }, life.Layers.Select(c => c.MlpTokens));
        Assert.True(life.ExecutedMacs > life.PaperMacs, "the predictor's cost is executed but not in the paper figure");
    }
}
