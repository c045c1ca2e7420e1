using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>timm's multi-head self-attention: <c>qkv</c> (E → 3E) and <c>proj</c> (E → E).</summary>
public sealed class Attention : Module
{
    /// <summary>Creates the layer.</summary>
    public Attention(int dim, int heads, bool qkvBias, Random random)
    {
        if (heads < 1 || dim % heads != 0)
        {
            throw new ArgumentException($"embedding width {dim} is not divisible by {heads} heads");
        }

        Heads = heads;
        Qkv = Child("qkv", new Linear(dim, 3 * dim, qkvBias, random));
        Proj = Child("proj", new Linear(dim, dim, true, random));
    }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>The packed query/key/value projection.</summary>
    public Linear Qkv { get; }

    /// <summary>The output projection.</summary>
    public Linear Proj { get; }

    /// <summary>Attention over h [B,N,E]; returns the projected output and the probabilities [B,H,N,N].</summary>
    public (Tensor Output, Tensor Probabilities) Forward(Tensor h, Tensor? keyMask = null) => FromQkv(Qkv.Forward(h), keyMask);

    /// <summary>The same from already projected queries, keys and values [B,N,3E] (e.g. gathered rows of them).</summary>
    public (Tensor Output, Tensor Probabilities) FromQkv(Tensor qkv, Tensor? keyMask = null)
    {
        var (output, probs) = Ops.Attention(qkv, Heads, keyMask);
        return (Proj.Forward(output), probs);
    }
}
