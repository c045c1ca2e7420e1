using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// IdleViT's token idling: an idle layer processes the class token and the floor(ratio·N)
/// highest-scoring patches (N = all patches; the sequence never shrinks) and passes the others
/// through unchanged; they stay eligible for later layers. Scoring gathers the selected tokens,
/// runs the block on them and writes them back. Training runs full attention with the idle keys
/// masked (−30000 added to their logits) and the idle rows' residual updates masked, and records
/// the layer's queries and keys for the token cut loss.
/// </summary>
public sealed class TokenIdling : ITokenReduction, IOnnxTokenReduction
{
    // Gives hidden keys exactly zero attention weight in every precision, and stays within float16's range (±65504):
    // (1 − mask)·(−100000) overflowed there, and 0·(−∞) is NaN.
    private const float HiddenKeyLogit = -30000f;

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
    public bool MasksKeysInTraining(int layer, LayerTokenCounts counts, ITokenSelector selector) => counts.Reducing;

    /// <inheritdoc/>
    public TokenState Run(Block block, int layer, double ratio, TokenState state, ITokenSelector selector, TokenReductionTrace? trace)
    {
        var x = state.Tokens;
        var n = state.Count - 1;
        var k = KeptCount(ratio, n);
        if (ratio >= 1 || k >= n)
        {
            return state.WithTokens(block.forward(x));
        }

        var normed = block.Norm1.forward(x);
        var selected = TokenSelection.TopIndices(selector.Score(layer, state, normed, block.Attn), k);
        var positions = TokenState.WithClassToken(selected);
        if (!block.training)
        {
            TokenSelection.Record(trace, layer, state, selected, state.Count);
            var rows = TokenSelection.RowIndex(positions, state.Count);
            var attended = block.Attn.forward(TokenSelection.Rows(normed, rows));
            var active = block.MlpResidual(block.Residual(TokenSelection.Rows(x, rows), attended));
            return state.WithTokens(TokenSelection.WithRows(x, rows, active));
        }

        var mask = zeros(state.Batch, state.Count, dtype: x.dtype, device: x.device).scatter_(1, positions, ones(positions.shape, dtype: x.dtype, device: x.device));
        var keyMask = (1 - mask) * HiddenKeyLogit;
        var qkv = block.Attn.QueryKeyValue(normed);
        TokenSelection.Record(trace, layer, state, selected, state.Count, qkv, mask, block.Attn.Heads);
        var updateMask = mask.unsqueeze(-1);
        var output = block.Attn.FromQkv(qkv, keyMask);
        return state.WithTokens(block.MlpResidual(block.Residual(x, output, updateMask), updateMask));
    }

    /// <inheritdoc/>
    OnnxTokens IOnnxTokenReduction.WriteBlock(IOnnxNetworkWriter writer, Block block, int layer, double ratio, OnnxTokens tokens, IOnnxTokenSelector selector)
    {
        var (x, prefix, n) = (tokens.X, $"blocks.{layer}.", (int)tokens.Count - 1);
        var k = KeptCount(ratio, n);
        if (ratio >= 1 || k >= n)
        {
            return tokens with { X = writer.Block(x, block, prefix, tokens.Count) };
        }

        // The chosen tokens attend among themselves and run the MLP; the others pass through (the scoring path of Run).
        var normed = writer.LayerNorm(x, block.Norm1, prefix + "norm1.");
        var rows = writer.Rows(writer.WithClassToken(writer.TopK(selector.WriteScores(writer, layer, tokens, normed, block.Attn, prefix + "attn."), k)), tokens.Count);
        var attended = writer.Attention(writer.GatherRows(normed, rows), block.Attn, prefix + "attn.", k + 1);
        var active = writer.MlpResidual(writer.Graph.Op("Add", new[] { writer.GatherRows(x, rows), attended }), block, prefix);
        return tokens with { X = writer.ScatterRows(x, rows, active, tokens.Count) };
    }
}
