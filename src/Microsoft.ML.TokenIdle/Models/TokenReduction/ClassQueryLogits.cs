using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The class token's raw attention logits q_cls,h · k_t,h against every token t, per head, computed
/// without the keys: q·(W_k h_t + b_k) = (W_kᵀ q)·h_t + q·b_k, so choosing tokens costs O(N·E·H)
/// instead of a key projection over all N tokens.
/// </summary>
internal static class ClassQueryLogits
{
    /// <summary>Per head, [B, N, H] (unscaled), from the block's normed tokens [B,N,E].</summary>
    public static Tensor PerHead(Tensor normed, Attention attention)
    {
        var (b, e, heads) = (normed.Size(0), normed.Size(2), attention.Heads);
        var (weight, bias) = (attention.Qkv.Weight, attention.Qkv.Bias);
        var classRow = Ops.Reshape(Ops.Slice(normed, 1, 0, 1), b, e);
        var query = Ops.Linear(classRow, Ops.Slice(weight, 0, 0, e), bias is null ? null : Ops.Slice(bias, 0, 0, e));

        // Row h of perHeadQuery[b] holds head h's part of the query and zeros elsewhere.
        var perHeadQuery = Ops.Mul(Ops.Add(Tensor.Zeros(b, heads, e), Ops.Reshape(query, b, 1, e)), HeadMask(heads, e));
        var keyWeight = Ops.Slice(weight, 0, e, e);
        var folded = Ops.Linear(perHeadQuery, Ops.Transpose(keyWeight, 0, 1));
        var logits = Ops.MatMul(normed, folded, transposeB: true);
        return bias is null ? logits : Ops.Add(logits, Ops.Reshape(Ops.Linear(perHeadQuery, Ops.Reshape(Ops.Slice(bias, 0, e, e), 1, e)), b, 1, heads));
    }

    private static Tensor HeadMask(int heads, int e)
    {
        var mask = Tensor.Zeros(heads, e);
        var d = e / heads;
        for (var h = 0; h < heads; h++)
        {
            mask.Data.Slice(h * e + h * d, d).Fill(1f);
        }

        return mask;
    }
}
