using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// timm's pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)), each residual
/// branch under drop-path in training. The two halves are public so that token-reduction methods
/// can act between them.
/// </summary>
public sealed class Block : Module
{
    /// <summary>Creates the block.</summary>
    public Block(int dim, int heads, int hidden, bool qkvBias, float eps, float dropPath, Random random)
    {
        DropPathRandom = random;
        DropPathRate = dropPath;
        Norm1 = Child("norm1", new LayerNorm(dim, eps));
        Attn = Child("attn", new Attention(dim, heads, qkvBias, random));
        Norm2 = Child("norm2", new LayerNorm(dim, eps));
        Mlp = Child("mlp", new Mlp(dim, hidden, random));
    }

    /// <summary>Stochastic-depth probability of each residual branch in training.</summary>
    public float DropPathRate { get; }

    /// <summary>The source of drop-path decisions (reseeded per training step for resumable runs).</summary>
    internal Random DropPathRandom { get; set; }

    /// <summary>Norm before attention.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>Self-attention.</summary>
    public Attention Attn { get; }

    /// <summary>Norm before the MLP.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>The MLP.</summary>
    public Mlp Mlp { get; }

    /// <summary>The whole block on x [B,N,E].</summary>
    public Tensor Forward(Tensor x) => MlpResidual(AttentionResidual(x).Output);

    /// <summary>
    /// x + attn(norm1(x)); also returns the attention probabilities [B,H,N,N]. Token-reduction methods
    /// pass a key mask [B,N] added to the logits, and an update mask [B,N,1] that multiplies the
    /// branch (0 leaves a token as it was).
    /// </summary>
    public (Tensor Output, Tensor Probabilities) AttentionResidual(Tensor x, Tensor? keyMask = null, Tensor? updateMask = null)
    {
        var (a, probs) = Attn.Forward(Norm1.Forward(x), keyMask);
        return (Residual(x, a, updateMask), probs);
    }

    /// <summary>x + mlp(norm2(x)), the branch multiplied by <paramref name="updateMask"/> [B,N,1] when given.</summary>
    public Tensor MlpResidual(Tensor x, Tensor? updateMask = null) => Residual(x, Mlp.Forward(Norm2.Forward(x)), updateMask);

    /// <summary>x + branch, with drop-path in training and the optional per-token update mask.</summary>
    public Tensor Residual(Tensor x, Tensor branch, Tensor? updateMask = null)
    {
        var y = IsTraining && DropPathRate > 0f ? Ops.DropPath(branch, DropPathRate, DropPathRandom) : branch;
        return Ops.Add(x, updateMask is null ? y : Ops.Mul(y, updateMask));
    }
}
