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

    /// <summary>
    /// The paper's 2.7 GMACs for DeiT-S at r = 13 (attention at the tokens entering each block, the MLP at those left);
    /// the executed count adds the matching's similarity products: 99·98 pairs of 64-wide head-mean keys in the first
    /// layer, and so on down.
    /// </summary>
    [Fact]
    public void DeitSmallAtR13CostsThePapers27GMacsAndTheMatchingIsCountedApart()
    {
        var config = VisionTransformerConfig.DeitSmall;
        var schedule = Microsoft.ML.TokenIdle.Models.TokenMerging.MergeSchedule.Constant(13, config.Depth);
        var report = MacsCounter.Count(config, new Microsoft.ML.TokenIdle.Models.TokenMerging.TokenMergingForward(schedule, proportionalAttention: true));
        Assert.InRange(report.PaperGMacs, 2.65, 2.75);
        Assert.Equal(new[] { 184, 171, 158, 145, 132, 119, 106, 93, 80, 67, 54, 41 }, report.Layers.Select(l => l.TokensOut));
        long matching = 0;
        var tokens = 197;
        foreach (var _ in schedule.PerLayer)
        {
            matching += (long)((tokens + 1) / 2) * (tokens / 2) * 64;
            tokens -= 13;
        }

        Assert.Equal(matching + 13L * 12 * 384, report.ExecutedMacs - report.PaperMacs);
        Assert.Equal(MacsCounter.Count(config).PaperMacs, MacsCounter.Count(config, new Microsoft.ML.TokenIdle.Models.TokenMerging.TokenMergingOptions { MergedPerLayer = 0 }.CreateForward(config, training: false)).PaperMacs);
    }
}
