namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// How many tokens (class token included) each part of one block works on when scoring; the MACs
/// counter multiplies these by the layer sizes.
/// </summary>
/// <param name="TokensIn">Tokens entering the block.</param>
/// <param name="AttentionTokens">Tokens whose queries and keys take part in attention (and whose outputs are projected).</param>
/// <param name="QkvTokens">Tokens whose queries, keys and values are actually computed.</param>
/// <param name="MlpTokens">Tokens the MLP runs on.</param>
/// <param name="TokensOut">Tokens leaving the block.</param>
/// <param name="FusedTokens">Tokens summed into a fused token in this block.</param>
/// <param name="Reducing">Whether the block selects tokens.</param>
public readonly record struct LayerTokenCounts(int TokensIn, int AttentionTokens, int QkvTokens, int MlpTokens, int TokensOut, int FusedTokens, bool Reducing)
{
    /// <summary>A plain block over <paramref name="tokens"/> tokens.</summary>
    public static LayerTokenCounts Plain(int tokens) => new(tokens, tokens, tokens, tokens, tokens, 0, false);
}
