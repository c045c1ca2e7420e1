using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// IdleViT's selector: the head-mean of the raw (pre-softmax, unscaled) products q_cls · k_t of the
/// layer's norm1 output, as the reference ranks tokens at the start of an idle layer.
/// </summary>
public sealed class ClassQueryKeySelector : ITokenSelector
{
    /// <inheritdoc/>
    public string Name => "class-query-key";

    /// <inheritdoc/>
    public TokenState Prepare(int layer, TokenState state) => state;

    /// <inheritdoc/>
    public Tensor Score(int layer, TokenState state, Tensor normed, Attention attention)
    {
        var (b, n) = (normed.Size(0), normed.Size(1));
        return Ops.Slice(Ops.Reshape(Ops.Mean(ClassQueryLogits.PerHead(normed, attention), -1), b, n), 1, 1, n - 1);
    }

    /// <inheritdoc/>
    public Tensor? SoftKeyWeights(int layer, TokenState state) => null;

    /// <inheritdoc/>
    public long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config)
        => reducing ? ClassAttentionSelector.ClassQueryMacs(tokens, config) : 0;
}
