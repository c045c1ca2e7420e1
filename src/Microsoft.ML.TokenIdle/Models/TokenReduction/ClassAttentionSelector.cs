using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// EViT's selector: a token's score is the class token's attention probability to it in this layer,
/// averaged over heads (softmax over all current keys, class token included). The scores carry
/// gradients, so fusion weights train the class row's queries and keys.
/// </summary>
public sealed class ClassAttentionSelector : ITokenSelector, IOnnxTokenSelector
{
    /// <inheritdoc/>
    public string Name => "class-attention";

    /// <inheritdoc/>
    public TokenState Prepare(int layer, TokenState state) => state;

    /// <inheritdoc/>
    public Tensor Score(int layer, TokenState state, Tensor normed, Attention attention)
    {
        var d = normed.shape[2] / attention.Heads;
        var logits = ClassQueryLogits.PerHead(normed, attention).permute(0, 2, 1);
        var probabilities = (logits / Math.Sqrt(d)).softmax(-1);
        return probabilities.mean(new long[] { 1 })[.., 1..];
    }

    /// <inheritdoc/>
    public Tensor? SoftKeyWeights(int layer, TokenState state) => null;

    /// <inheritdoc/>
    OnnxTokens IOnnxTokenSelector.WritePrepare(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens) => tokens;

    /// <inheritdoc/>
    string IOnnxTokenSelector.WriteScores(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens, string normed, Attention attention, string prefix)
    {
        var g = writer.Graph;
        var logits = g.Op("Transpose", new[] { ClassQueryLogits.WritePerHead(writer, normed, attention, prefix) }, Serialization.OnnxGraph.Ints("perm", 0, 2, 1));
        var scaled = g.Op("Div", new[] { logits, g.Float((float)Math.Sqrt(writer.Width / attention.Heads)) });
        var probabilities = g.Op("Softmax", new[] { scaled }, Serialization.OnnxGraph.Int("axis", -1));
        return writer.Patches(writer.ReduceMean(probabilities, 1), tokens.Count);
    }

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
