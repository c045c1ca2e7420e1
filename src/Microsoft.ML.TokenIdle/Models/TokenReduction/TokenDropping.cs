using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Drops tokens for good: a reducing layer keeps the class token and the ceil(ratio·(N−1))
/// highest-scoring other tokens, in descending score order. With fusion (EViT's inattentive-token
/// fusion) the dropped tokens are summed, weighted by their scores (not renormalised), into one
/// token appended after the kept ones. Later layers run on the shorter sequence.
/// </summary>
public sealed class TokenDropping : ITokenReduction
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
}
