using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// Analytic MACs of a ViT scoring pass per image, for the full model or a token-reduction method.
/// Per block with a attention tokens, q projected tokens and m MLP tokens: qkv q·3E², attention
/// products 2·a²·E, projection a·E², MLP 2·m·E·hidden; plus the patch embedding (patches·C·P²·E)
/// and the head (E·classes).
/// </summary>
public static class MacsCounter
{
    /// <summary>MACs of <paramref name="config"/>'s model under <paramref name="strategy"/> (null: the full model).</summary>
    public static MacsReport Count(VisionTransformerConfig config, TokenReductionStrategy? strategy = null)
    {
        var layers = strategy?.Plan(config) ?? Enumerable.Repeat(LayerTokenCounts.Plain(config.NumPatches + 1), config.Depth).ToArray();
        long e = config.EmbedDim;
        var fixedCost = (long)config.NumPatches * config.InChannels * config.PatchSize * config.PatchSize * e + e * config.NumClasses;
        long paper = fixedCost, executed = fixedCost;
        for (var t = 0; t < layers.Count; t++)
        {
            var c = layers[t];
            var shared = (long)c.AttentionTokens * e * e + 2L * c.AttentionTokens * c.AttentionTokens * e + 2L * c.MlpTokens * e * config.MlpHidden;
            paper += shared + 3L * c.AttentionTokens * e * e;
            executed += shared + 3L * c.QkvTokens * e * e + (long)c.FusedTokens * e
                + (strategy?.Selector.SelectionMacs(t, c.TokensIn, c.Reducing, config) ?? 0);
        }

        return new MacsReport(paper, executed, layers);
    }
}
