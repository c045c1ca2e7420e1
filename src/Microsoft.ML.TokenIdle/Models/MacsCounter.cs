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
        => Count(config, strategy?.Plan(config) ?? Enumerable.Repeat(LayerTokenCounts.Plain(config.NumPatches + 1), config.Depth).ToArray(),
            (t, c) => strategy?.Selector.SelectionMacs(t, c.TokensIn, c.Reducing, config) ?? 0);

    /// <summary>
    /// MACs of <paramref name="config"/>'s model merging tokens by <paramref name="schedule"/> (ToMe): each block's attention
    /// at the tokens entering it, its MLP at the tokens left after the merge. The paper's convention leaves out the
    /// matching; the executed figure adds its similarity products (the even-position tokens' keys, averaged over heads,
    /// against the odd ones') and the merges' sums.
    /// </summary>
    public static MacsReport Count(VisionTransformerConfig config, TokenMerging.MergeSchedule schedule)
    {
        var layers = new LayerTokenCounts[config.Depth];
        var tokens = config.NumPatches + 1;
        for (var t = 0; t < layers.Length; t++)
        {
            var r = schedule.MergedAt(t, tokens);
            layers[t] = new LayerTokenCounts(tokens, tokens, tokens, tokens - r, tokens - r, r, r > 0);
            tokens -= r;
        }

        long headDim = config.EmbedDim / config.NumHeads;
        return Count(config, layers, (_, c) => c.Reducing ? (long)((c.TokensIn + 1) / 2) * (c.TokensIn / 2) * headDim : 0);
    }

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
