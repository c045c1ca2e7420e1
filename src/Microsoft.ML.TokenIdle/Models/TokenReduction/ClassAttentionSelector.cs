using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// EViT's selector: a token's score is the class token's attention probability to it in this layer,
/// averaged over heads (softmax over all current keys, class token included). The scores carry
/// gradients, so fusion weights train the class row's queries and keys.
/// </summary>
public sealed class ClassAttentionSelector : ITokenSelector
{
    /// <inheritdoc/>
    public string Name => "class-attention";

    /// <inheritdoc/>
    public TokenState Prepare(int layer, TokenState state) => state;

    /// <inheritdoc/>
    public Tensor Score(int layer, TokenState state, Tensor normed, Attention attention)
    {
        var (b, n) = (normed.Size(0), normed.Size(1));
        var d = normed.Size(2) / attention.Heads;
        var logits = Ops.Permute(ClassQueryLogits.PerHead(normed, attention), 0, 2, 1);
        var probabilities = Ops.Softmax(Ops.Scale(logits, 1f / MathF.Sqrt(d)));
        return Ops.Slice(Ops.Reshape(Ops.Mean(probabilities, 1), b, n), 1, 1, n - 1);
    }

    /// <inheritdoc/>
    public Tensor? SoftKeyWeights(int layer, TokenState state) => null;

    /// <inheritdoc/>
    public long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config)
        => reducing ? ClassQueryMacs(tokens, config) : 0;

    /// <summary>Class query, folded key weights and the logits against every token.</summary>
    internal static long ClassQueryMacs(int tokens, VisionTransformerConfig config)
    {
        long e = config.EmbedDim;
        return 2 * e * e + (long)tokens * e * config.NumHeads + e * config.NumHeads;
    }
}
