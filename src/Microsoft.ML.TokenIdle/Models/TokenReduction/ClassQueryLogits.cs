using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The class token's raw attention logits q_cls,h · k_t,h against every token t, per head, computed without the
/// keys: q·(W_k h_t + b_k) = (W_kᵀ q)·h_t + q·b_k, so choosing tokens costs O(N·E·H) instead of a key projection
/// over all N tokens.
/// </summary>
internal static class ClassQueryLogits
{
    /// <summary>Per head, [B, N, H] (unscaled), from the block's normed tokens [B,N,E].</summary>
    public static Tensor PerHead(Tensor normed, Attention attention)
    {
        var (e, heads) = (normed.shape[2], (long)attention.Heads);
        var (weight, bias) = (attention.Qkv.weight!, attention.Qkv.bias);
        var query = nn.functional.linear(normed[.., 0], weight[..(int)e], bias?[..(int)e]);

        // Row h of perHeadQuery[b] holds head h's part of the query and zeros elsewhere.
        var headMask = arange(e, device: normed.device).div(e / heads, rounding_mode: RoundingMode.floor).eq(arange(heads, device: normed.device).unsqueeze(1)).to(normed.dtype);
        var perHeadQuery = query.unsqueeze(1) * headMask;
        var folded = perHeadQuery.matmul(weight[(int)e..(int)(2 * e)]);
        var logits = normed.matmul(folded.transpose(1, 2));
        return bias is null ? logits : logits + perHeadQuery.matmul(bias[(int)e..(int)(2 * e)]).unsqueeze(1);
    }
}
