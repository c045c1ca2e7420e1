using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Drops tokens for good: a reducing layer keeps the class token and the ceil(ratio·(N−1))
/// highest-scoring other tokens, in descending score order. With fusion (EViT's inattentive-token
/// fusion) the dropped tokens are summed, weighted by their scores (not renormalised), into one
/// token appended after the kept ones. Later layers run on the shorter sequence.
/// </summary>
public sealed class TokenDropping : ITokenReduction, IOnnxTokenReduction
{
    /// <summary>Creates the reduction.</summary>
    public TokenDropping(bool fuse, DropPoint point)
    {
        Fuse = fuse;
        Point = point;
    }

    /// <summary>Whether the dropped tokens are fused into one extra token.</summary>
    public bool Fuse { get; }

    /// <summary>Where in the block tokens are removed.</summary>
    public DropPoint Point { get; }

    /// <inheritdoc/>
    public string Name => Fuse ? "drop-fuse" : "drop";

    /// <inheritdoc/>
    public int KeptCount(double ratio, int current) => (int)Math.Ceiling(ratio * current);

    /// <inheritdoc/>
    public LayerTokenCounts Plan(double ratio, int tokensIn)
    {
        var n = tokensIn - 1;
        var k = KeptCount(ratio, n);
        if (ratio >= 1 || k >= n)
        {
            return LayerTokenCounts.Plain(tokensIn);
        }

        var after = 1 + k + (Fuse ? 1 : 0);
        var fused = Fuse ? n - k : 0;
        return Point == DropPoint.AfterAttention
            ? new LayerTokenCounts(tokensIn, tokensIn, tokensIn, after, after, fused, true)
            : new LayerTokenCounts(tokensIn, after, after, after, after, fused, true);
    }

    /// <inheritdoc/>
    public bool MasksKeysInTraining(int layer, LayerTokenCounts counts, ITokenSelector selector) => selector.WeightsKeysInTraining(layer);

    /// <inheritdoc/>
    public TokenState Run(Block block, int layer, double ratio, TokenState state, ITokenSelector selector, TokenReductionTrace? trace)
    {
        var x = state.Tokens;
        if (block.training && selector.SoftKeyWeights(layer, state) is { } keyWeights)
        {
            return state.WithTokens(block.MlpResidual(block.AttentionResidual(x, keyWeights)));
        }

        var n = state.Count - 1;
        var k = KeptCount(ratio, n);
        if (ratio >= 1 || k >= n)
        {
            return state.WithTokens(block.forward(x));
        }

        var normed = block.Norm1.forward(x);
        var scores = selector.Score(layer, state, normed, block.Attn);
        var kept = TokenSelection.TopIndices(scores, k);
        TokenSelection.Record(trace, layer, state, kept, 1 + k + (Fuse ? 1 : 0));
        if (Point == DropPoint.BeforeBlock)
        {
            var reduced = Reduce(state, kept, scores);
            return reduced.WithTokens(block.forward(reduced.Tokens));
        }

        var afterAttention = state.WithTokens(block.Residual(x, block.Attn.forward(normed)));
        var result = Reduce(afterAttention, kept, scores);
        return result.WithTokens(block.MlpResidual(result.Tokens));
    }

    /// <summary>Keeps the class token and the kept tokens ([B, k]), then appends the fused token when fusing.</summary>
    private TokenState Reduce(TokenState state, Tensor kept, Tensor scores)
    {
        var reduced = state.Select(TokenState.WithClassToken(kept));
        if (!Fuse)
        {
            return reduced;
        }

        // The fused token sums every non-class token weighted by its score, with the kept tokens' weights zeroed:
        // the dropped tokens' weighted sum without gathering them.
        var droppedWeights = scores.scatter(1, kept, zeros(kept.shape, dtype: scores.dtype, device: scores.device));
        var fused = droppedWeights.unsqueeze(1).matmul(state.Tokens[.., 1..]);

        // A fused token's priority is the highest among the tokens it absorbed.
        var priority = state.Priority?[.., 1..].scatter(1, kept, full(kept.shape, double.NegativeInfinity, dtype: state.Priority.dtype, device: state.Priority.device)).amax(new long[] { 1 }, keepdim: true);
        return reduced.AppendFused(fused, priority);
    }

    /// <inheritdoc/>
    OnnxTokens IOnnxTokenReduction.WriteBlock(IOnnxNetworkWriter writer, Block block, int layer, double ratio, OnnxTokens tokens, IOnnxTokenSelector selector)
    {
        var (g, x, prefix, n) = (writer.Graph, tokens.X, $"blocks.{layer}.", (int)tokens.Count - 1);
        var k = KeptCount(ratio, n);
        if (ratio >= 1 || k >= n)
        {
            return tokens with { X = writer.Block(x, block, prefix, tokens.Count) };
        }

        // As Run: score from norm1, then drop after the attention (EViT) or before the block (life regression).
        var normed = writer.LayerNorm(x, block.Norm1, prefix + "norm1.");
        var scores = selector.WriteScores(writer, layer, tokens, normed, block.Attn, prefix + "attn.");
        if (Point == DropPoint.AfterAttention)
        {
            x = g.Op("Add", new[] { x, writer.Attention(normed, block.Attn, prefix + "attn.", tokens.Count) });
        }

        var order = writer.TopK(scores, Fuse ? n : k);
        var kept = Fuse ? g.Op("Slice", new[] { order, g.Int64s(0), g.Int64s(k), g.Int64s(1) }) : order;
        var positions = writer.WithClassToken(kept);
        var reduced = writer.GatherRows(x, writer.Rows(positions, tokens.Count));
        var priority = tokens.Priority is { } p ? g.Op("GatherElements", new[] { p, positions }, Serialization.OnnxGraph.Int("axis", 1)) : null;
        if (Fuse)
        {
            // The dropped tokens, summed with their scores as weights, become one token after the kept ones; its priority is their highest.
            var dropped = g.Op("Slice", new[] { order, g.Int64s(k), g.Int64s(n), g.Int64s(1) });
            var weights = g.Op("Unsqueeze", new[] { g.Op("GatherElements", new[] { scores, dropped }, Serialization.OnnxGraph.Int("axis", 1)), g.Int64s(1) });
            var droppedTokens = writer.GatherRows(x, writer.Rows(g.Op("Add", new[] { dropped, g.Int64(1) }), tokens.Count));
            reduced = g.Op("Concat", new[] { reduced, g.Op("MatMul", new[] { weights, droppedTokens }) }, Serialization.OnnxGraph.Int("axis", 1));
            if (priority is not null)
            {
                var absorbed = g.Op("GatherElements", new[] { writer.Patches(tokens.Priority!, tokens.Count), dropped }, Serialization.OnnxGraph.Int("axis", 1));
                priority = g.Op("Concat", new[] { priority, writer.ReduceMax(absorbed, 1, keep: true) }, Serialization.OnnxGraph.Int("axis", 1));
            }
        }

        var count = 1L + k + (Fuse ? 1 : 0);
        var result = Point == DropPoint.AfterAttention ? writer.MlpResidual(reduced, block, prefix) : writer.Block(reduced, block, prefix, count);
        return new OnnxTokens(result, count, priority);
    }
}
