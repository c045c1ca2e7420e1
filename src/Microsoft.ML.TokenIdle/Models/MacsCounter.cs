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
    /// <summary>
    /// MACs of <paramref name="config"/>'s model under <paramref name="method"/> (null: the full model). The paper's
    /// convention counts the blocks at the method's token counts; the executed figure adds what the method itself
    /// computes (ranking, ToMe's matching) and its fused sums.
    /// </summary>
    public static MacsReport Count(VisionTransformerConfig config, IReducedForward? method = null)
        => Count(config, method?.Plan(config) ?? Enumerable.Repeat(LayerTokenCounts.Plain(config.NumPatches + 1), config.Depth).ToArray(),
            (t, c) => method?.ReductionMacs(t, c, config) ?? 0);

    private static MacsReport Count(VisionTransformerConfig config, IReadOnlyList<LayerTokenCounts> layers, Func<int, LayerTokenCounts, long> selectionMacs)
    {
        long e = config.EmbedDim;
        var fixedCost = (long)config.NumPatches * config.InChannels * config.PatchSize * config.PatchSize * e + e * config.NumClasses;
        long paper = fixedCost, executed = fixedCost;
        for (var t = 0; t < layers.Count; t++)
        {
            var c = layers[t];
            var shared = (long)c.AttentionTokens * e * e + 2L * c.AttentionTokens * c.AttentionTokens * e + 2L * c.MlpTokens * e * config.MlpHidden;
            paper += shared + 3L * c.AttentionTokens * e * e;
            executed += shared + 3L * c.QkvTokens * e * e + (long)c.FusedTokens * e + selectionMacs(t, c);
        }

        return new MacsReport(paper, executed, layers);
    }
}
