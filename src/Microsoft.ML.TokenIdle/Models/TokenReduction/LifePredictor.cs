using Microsoft.ML.TokenIdle.Nn;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Life regression's predictor: its own LayerNorm, then the bilinear score s_i = x̄_i · (W x̄_cls) of every patch
/// against the class token. Parameters <c>norm.weight</c>, <c>norm.bias</c> and <c>bilinear.weight</c> [E,E]; W
/// starts as the identity, so an untrained predictor ranks patches by their similarity to the class token.
/// </summary>
public sealed class LifePredictor : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the predictor for tokens of width <paramref name="dim"/>.</summary>
    public LifePredictor(int dim, double eps = 1e-6)
        : base(nameof(LifePredictor))
    {
        Engine.TorchEngine.EnsureLoaded();
        Norm = nn.LayerNorm(dim, eps, device: CPU, dtype: ScalarType.Float32);
        Bilinear = nn.Linear(dim, dim, hasBias: false, device: CPU, dtype: ScalarType.Float32);
        using (no_grad())
        {
            Bilinear.weight!.copy_(eye(dim, dtype: ScalarType.Float32, device: CPU));
        }

        RegisterComponents();
    }

    /// <summary>The predictor's LayerNorm.</summary>
    [field: ComponentName(Name = "norm")]
    public LayerNorm Norm { get; }

    /// <summary>W [E,E] of the bilinear form (applied as x̄_cls Wᵀ).</summary>
    [field: ComponentName(Name = "bilinear")]
    public Linear Bilinear { get; }

    /// <summary>Raw scores s [B, N−1] of the non-class tokens of <paramref name="tokens"/> [B,N,E].</summary>
    public override Tensor forward(Tensor tokens)
    {
        var width = Bilinear.weight!.shape[0];
        if (tokens.shape[2] != width)
        {
            throw new ArgumentException($"life predictor: tokens of width {tokens.shape[2]}, the predictor was made for {width}");
        }

        var normed = Norm.forward(tokens);
        var classVector = Bilinear.forward(normed[.., 0]);
        return normed[.., 1..].matmul(classVector.unsqueeze(-1)).squeeze(-1);
    }

    /// <summary>Lives τ [B, N−1]: each image's scores standardised to the schedule's mean μ and standard deviation σ.</summary>
    public Tensor Lives(Tensor tokens, LifeStatistics statistics)
    {
        var s = forward(tokens);
        var centred = s - s.mean(new long[] { -1 }, keepdim: true);
        var std = (centred.square().mean(new long[] { -1 }, keepdim: true) + 1e-6).sqrt();
        return centred / std * statistics.StdDev + statistics.Mean;
    }

    /// <summary>Loads predictor weights (<c>norm.weight</c>, <c>norm.bias</c>, <c>bilinear.weight</c>) from safetensors.</summary>
    public void LoadWeights(string path) => ModuleWeights.LoadWeights(this, path);
}
