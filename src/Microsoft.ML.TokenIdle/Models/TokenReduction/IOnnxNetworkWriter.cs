using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using TorchSharp.Modules;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// What a method's ONNX piece writes with (the exporter implements it): the graph, and the network's own layers and the
/// token plumbing as the exporter writes them — the same weights, its quantisation included.
/// </summary>
internal interface IOnnxNetworkWriter
{
    /// <summary>The graph being built.</summary>
    OnnxGraph Graph { get; }

    /// <summary>E, the token width.</summary>
    long Width { get; }

    /// <summary>LayerNormalization of <paramref name="x"/> with <paramref name="norm"/>'s weights (named from <paramref name="prefix"/>).</summary>
    string LayerNorm(string x, LayerNorm norm, string prefix);

    /// <summary>x·Wᵀ + b of a network layer (int8 where the export quantises).</summary>
    string Linear(string x, Linear linear, string prefix, bool quantizable = true);

    /// <summary>A layer's Wᵀ [in, out] as a float32 value (dequantised where the export quantises).</summary>
    string TransposedWeight(Linear linear, string prefix);

    /// <summary>Multi-head attention of <paramref name="normed"/> ([B, tokens, E]) with the block's weights: the projected output.</summary>
    string Attention(string normed, Attention attention, string prefix, long tokens);

    /// <summary>
    /// Attention as <see cref="Attention"/> writes it, with <paramref name="keyBias"/> [B, 1, 1, tokens] (or null) added to
    /// its logits; also its keys averaged over heads, [B, tokens, E / heads].
    /// </summary>
    (string Output, string Keys) AttentionWithKeys(string normed, Attention attention, string prefix, long tokens, string? keyBias);

    /// <summary>x + MLP(norm2(x)).</summary>
    string MlpResidual(string x, Block block, string prefix);

    /// <summary>The whole block on <paramref name="tokens"/> tokens.</summary>
    string Block(string x, Block block, string prefix, long tokens);

    /// <summary>The indices [B, k] of the <paramref name="k"/> highest of <paramref name="scores"/> [B, M], highest first.</summary>
    string TopK(string scores, long k);

    /// <summary>Patch indices [B, k] → token positions [B, 1 + k] with the class token (position 0) first.</summary>
    string WithClassToken(string indices);

    /// <summary>Token positions [B, m] in sequences of <paramref name="tokens"/> → row numbers in the [B·tokens, E] view.</summary>
    string Rows(string positions, long tokens);

    /// <summary>The rows <paramref name="rows"/> (from <see cref="Rows"/>) of sequences [B, N, E]: [B, m, E].</summary>
    string GatherRows(string x, string rows);

    /// <summary>Sequences [B, <paramref name="tokens"/>, E] with the rows <paramref name="rows"/> replaced by <paramref name="values"/> [B, m, E].</summary>
    string ScatterRows(string x, string rows, string values, long tokens);

    /// <summary>The non-class part [B, tokens − 1, …] of a per-token value [B, tokens, …].</summary>
    string Patches(string perToken, long tokens);

    /// <summary>The mean over <paramref name="axis"/>.</summary>
    string ReduceMean(string x, long axis, bool keep = false);

    /// <summary>The maximum over <paramref name="axis"/>.</summary>
    string ReduceMax(string x, long axis, bool keep = false);

    /// <summary>The Euclidean norm over <paramref name="axis"/>.</summary>
    string ReduceL2(string x, long axis, bool keep = false);
}
