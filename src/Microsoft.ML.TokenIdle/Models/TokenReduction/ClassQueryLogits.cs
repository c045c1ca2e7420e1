using Microsoft.ML.TokenIdle.Nn;
using static Microsoft.ML.TokenIdle.Serialization.OnnxGraph;
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

    /// <summary>The graph form of <see cref="PerHead"/>: [B, N, H] from normed tokens [B, N, E], with the same folding.</summary>
    public static string WritePerHead(IOnnxNetworkWriter writer, string normed, Attention attention, string prefix)
    {
        var (g, e, heads) = (writer.Graph, writer.Width, (long)attention.Heads);
        var (query, keyWeight, keyBias) = Query(writer, normed, attention, prefix);
        var mask = new float[heads * e];
        for (var h = 0; h < heads; h++)
        {
            Array.Fill(mask, 1f, (int)(h * e + h * (e / heads)), (int)(e / heads));
        }

        var perHeadQuery = g.Op("Mul", new[] { g.Op("Unsqueeze", new[] { query, g.Int64s(1) }), g.Floats(mask, heads, e) });
        var folded = g.Op("MatMul", new[] { perHeadQuery, g.Op("Transpose", new[] { keyWeight }) });
        var logits = g.Op("MatMul", new[] { normed, g.Op("Transpose", new[] { folded }, Ints("perm", 0, 2, 1)) });
        return keyBias is null ? logits : g.Op("Add", new[] { logits, g.Op("Transpose", new[] { g.Op("MatMul", new[] { perHeadQuery, g.Op("Unsqueeze", new[] { keyBias, g.Int64s(-1) }) }) }, Ints("perm", 0, 2, 1)) });
    }

    /// <summary>
    /// The head-mean of the per-head logits, [B, N]: the mean of per-head dot products is the full dot product over H,
    /// so it is q_cls·k_j / H with k_j = W_k·x̄_j + b_k, folded as x̄_j·(W_kᵀq_cls) + q_cls·b_k.
    /// </summary>
    public static string WriteHeadMean(IOnnxNetworkWriter writer, string normed, Attention attention, string prefix)
    {
        var g = writer.Graph;
        var (query, keyWeight, keyBias) = Query(writer, normed, attention, prefix);
        var folded = g.Op("MatMul", new[] { query, g.Op("Transpose", new[] { keyWeight }) });
        var logits = g.Op("Squeeze", new[] { g.Op("MatMul", new[] { normed, g.Op("Unsqueeze", new[] { folded, g.Int64s(-1) }) }), g.Int64s(-1) });
        if (keyBias is not null)
        {
            logits = g.Op("Add", new[] { logits, g.Op("ReduceSum", new[] { g.Op("Mul", new[] { query, keyBias }), g.Int64s(-1) }, Int("keepdims", 1)) });
        }

        return g.Op("Div", new[] { logits, g.Float(attention.Heads) });
    }

    // The class token's query [B, E], the keys' Wᵀ columns [E, E] and their bias [E] (or null).
    private static (string Query, string KeyWeight, string? KeyBias) Query(IOnnxNetworkWriter writer, string normed, Attention attention, string prefix)
    {
        var (g, e) = (writer.Graph, writer.Width);
        var weight = writer.TransposedWeight(attention.Qkv, prefix + "qkv.");
        string Columns(string t, long from, long to, long axis) => g.Op("Slice", new[] { t, g.Int64s(from), g.Int64s(to), g.Int64s(axis) });
        var query = g.Op("MatMul", new[] { g.Op("Gather", new[] { normed, g.Int64(0) }, Int("axis", 1)), Columns(weight, 0, e, 1) });
        var bias = attention.Qkv.bias is { } b ? g.Weight(prefix + "qkv.bias", b) : null;
        if (bias is not null)
        {
            query = g.Op("Add", new[] { query, Columns(bias, 0, e, 0) });
        }

        return (query, Columns(weight, e, 2 * e, 1), bias is null ? null : Columns(bias, e, 2 * e, 0));
    }
}
