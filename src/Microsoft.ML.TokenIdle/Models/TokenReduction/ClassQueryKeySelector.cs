using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// IdleViT's selector: the head-mean of the raw (pre-softmax, unscaled) products q_cls · k_t of the
/// layer's norm1 output, as the reference ranks tokens at the start of an idle layer.
/// </summary>
public sealed class ClassQueryKeySelector : ITokenSelector, IOnnxTokenSelector
{
    /// <inheritdoc/>
    public string Name => "class-query-key";

    /// <inheritdoc/>
    public TokenState Prepare(int layer, TokenState state) => state;

    /// <inheritdoc/>
    public Tensor Score(int layer, TokenState state, Tensor normed, Attention attention)
        => ClassQueryLogits.PerHead(normed, attention).mean(new long[] { -1 })[.., 1..];

    /// <inheritdoc/>
    public Tensor? SoftKeyWeights(int layer, TokenState state) => null;

    /// <inheritdoc/>
    OnnxTokens IOnnxTokenSelector.WritePrepare(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens) => tokens;

    /// <inheritdoc/>
    string IOnnxTokenSelector.WriteScores(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens, string normed, Attention attention, string prefix)
        => writer.Patches(ClassQueryLogits.WriteHeadMean(writer, normed, attention, prefix), tokens.Count);

    /// <inheritdoc/>
    public long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config)
        => reducing ? ClassAttentionSelector.ClassQueryMacs(tokens, config) : 0;
}
