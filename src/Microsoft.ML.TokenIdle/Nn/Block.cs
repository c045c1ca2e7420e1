using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// timm's pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)), each residual branch under
/// drop-path in training. The halves are public so that token-reduction methods can act between them.
/// </summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the block, initialised from <paramref name="generator"/> (null: no draw, for weights about to be loaded).</summary>
    public Block(int dim, int heads, int hidden, bool qkvBias, double eps, double dropPath, Generator? generator)
        : base(nameof(Block))
    {
        DropPathRate = dropPath;
        Norm1 = nn.LayerNorm(dim, eps, device: CPU, dtype: ScalarType.Float32);
        Attn = new Attention(dim, heads, qkvBias, generator);
        Norm2 = nn.LayerNorm(dim, eps, device: CPU, dtype: ScalarType.Float32);
        Mlp = new Mlp(dim, hidden, generator);
        RegisterComponents();
    }

    /// <summary>Stochastic-depth probability of each residual branch in training.</summary>
    public double DropPathRate { get; }

    /// <summary>The source of drop-path decisions (reseeded per training step, so a resumed run repeats them).</summary>
    internal Generator? DropPathGenerator { get; set; }

    /// <summary>Norm before attention.</summary>
    [field: ComponentName(Name = "norm1")]
    public LayerNorm Norm1 { get; }

    /// <summary>Self-attention.</summary>
    [field: ComponentName(Name = "attn")]
    public Attention Attn { get; }

    /// <summary>Norm before the MLP.</summary>
    [field: ComponentName(Name = "norm2")]
    public LayerNorm Norm2 { get; }

    /// <summary>The MLP.</summary>
    [field: ComponentName(Name = "mlp")]
    public Mlp Mlp { get; }

    /// <summary>The whole block on x [B,N,E].</summary>
    public override Tensor forward(Tensor x) => MlpResidual(AttentionResidual(x));

    /// <summary>
    /// x + attn(norm1(x)). Token-reduction methods pass a key mask [B,N] added to the attention logits and an
    /// update mask [B,N,1] that multiplies the branch (0 leaves a token as it was).
    /// </summary>
    public Tensor AttentionResidual(Tensor x, Tensor? keyMask = null, Tensor? updateMask = null)
        => Residual(x, Attn.FromQkv(Attn.QueryKeyValue(Norm1.forward(x)), keyMask), updateMask);

    /// <summary>x + mlp(norm2(x)), the branch multiplied by <paramref name="updateMask"/> [B,N,1] when given.</summary>
    public Tensor MlpResidual(Tensor x, Tensor? updateMask = null) => Residual(x, Mlp.forward(Norm2.forward(x)), updateMask);

    /// <summary>x + branch, with drop-path in training (whole samples' branches dropped, the rest scaled by 1/(1−p)) and the optional update mask.</summary>
    public Tensor Residual(Tensor x, Tensor branch, Tensor? updateMask = null)
    {
        if (training && DropPathRate > 0)
        {
            // Drawn on the CPU, where the generator is, then moved: a CUDA draw cannot take a CPU generator.
            var keep = rand(new[] { branch.shape[0], 1L, 1L }, generator: DropPathGenerator, device: CPU).ge(DropPathRate).to(branch.dtype).to(branch.device, non_blocking: true);
            branch = branch * keep / (1 - DropPathRate);
        }

        return x + (updateMask is null ? branch : branch * updateMask);
    }
}
