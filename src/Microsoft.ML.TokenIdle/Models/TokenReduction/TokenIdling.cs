using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// IdleViT's token idling: an idle layer processes the class token and the floor(ratio·N)
/// highest-scoring patches (N = all patches; the sequence never shrinks) and passes the others
/// through unchanged; they stay eligible for later layers. Scoring gathers the selected tokens,
/// runs the block on them and writes them back. Training runs full attention with the idle keys
/// masked (−100000 added to their logits) and the idle rows' residual updates masked, and records
/// the layer's queries and keys for the token cut loss.
/// </summary>
public sealed class TokenIdling : ITokenReduction
{
    private const float HiddenKeyLogit = -100000f;

    /// <inheritdoc/>
    public string Name => "idle";

    /// <inheritdoc/>
    public int KeptCount(double ratio, int current) => (int)Math.Floor(ratio * current);

    /// <inheritdoc/>
    public LayerTokenCounts Plan(double ratio, int tokensIn)
    {
        var k = KeptCount(ratio, tokensIn - 1);
        return ratio >= 1 || k >= tokensIn - 1
            ? LayerTokenCounts.Plain(tokensIn)
            : new LayerTokenCounts(tokensIn, 1 + k, 1 + k, 1 + k, tokensIn, 0, true);
    }

    /// <inheritdoc/>
    public TokenState Run(Block block, int layer, double ratio, TokenState state, ITokenSelector selector, TokenReductionTrace? trace)
    {
        var x = state.Tokens;
        var n = state.Count - 1;
        var k = KeptCount(ratio, n);
        if (ratio >= 1 || k >= n)
        {
            return state.WithTokens(block.Forward(x));
        }

        var normed = block.Norm1.Forward(x);
        var selected = TokenSelection.TopIndices(selector.Score(layer, state, normed, block.Attn), k);
        var positions = TokenState.WithClassToken(selected, state.Batch);
        if (!block.IsTraining)
        {
            TokenSelection.Record(trace, layer, state, selected, state.Count);
            var (attended, _) = block.Attn.Forward(Ops.Gather(normed, 1, positions));
            var active = block.MlpResidual(block.Residual(Ops.Gather(x, 1, positions), attended));
            return state.WithTokens(Ops.Scatter(x, 1, positions, active));
        }

        var mask = ActiveMask(positions, state.Batch, state.Count);
        var keyMask = Tensor.Zeros(state.Batch, state.Count);
        for (var i = 0; i < mask.Length; i++)
        {
            keyMask.Data[i] = mask.Data[i] == 0f ? HiddenKeyLogit : 0f;
        }

        var qkv = block.Attn.Qkv.Forward(normed);
        TokenSelection.Record(trace, layer, state, selected, state.Count, qkv, mask, block.Attn.Heads);
        var updateMask = Ops.Reshape(mask, state.Batch, state.Count, 1);
        var (output, _) = block.Attn.FromQkv(qkv, keyMask);
        return state.WithTokens(block.MlpResidual(block.Residual(x, output, updateMask), updateMask));
    }

    private static Tensor ActiveMask(int[] positions, int batch, int count)
    {
        var mask = Tensor.Zeros(batch, count);
        var k = positions.Length / batch;
        for (var i = 0; i < positions.Length; i++)
        {
            mask.Data[i / k * count + positions[i]] = 1f;
        }

        return mask;
    }
}
