using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Life regression's predictor: its own LayerNorm, then the bilinear score s_i = x̄_i · (W x̄_cls) of
/// every patch against the class token. Parameters <c>norm.weight</c>, <c>norm.bias</c> and
/// <c>bilinear.weight</c> [E,E]; W starts as the identity, so an untrained predictor ranks patches
/// by their similarity to the class token.
/// </summary>
public sealed class LifePredictor : Module
{
    /// <summary>Creates the predictor for tokens of width <paramref name="dim"/>.</summary>
    public LifePredictor(int dim, float eps = 1e-6f)
    {
        Norm = Child("norm", new LayerNorm(dim, eps));
        var identity = Tensor.Zeros(dim, dim);
        for (var i = 0; i < dim; i++)
        {
            identity.Data[i * dim + i] = 1f;
        }

        Bilinear = Parameter("bilinear.weight", identity);
    }

    /// <summary>The predictor's LayerNorm.</summary>
    public LayerNorm Norm { get; }

    /// <summary>W [E,E] of the bilinear form.</summary>
    public Tensor Bilinear { get; }

    /// <summary>Raw scores s [B, N−1] of the non-class tokens of <paramref name="tokens"/> [B,N,E].</summary>
    public Tensor Scores(Tensor tokens)
    {
        var (b, n, e) = (tokens.Size(0), tokens.Size(1), tokens.Size(2));
        if (e != Bilinear.Size(0))
        {
            throw new ArgumentException($"life predictor: tokens of width {e}, the predictor was made for {Bilinear.Size(0)}");
        }

        var normed = Norm.Forward(tokens);
        var classVector = Ops.Linear(Ops.Reshape(Ops.Slice(normed, 1, 0, 1), b, e), Bilinear);
        var scores = Ops.MatMul(Ops.Slice(normed, 1, 1, n - 1), Ops.Reshape(classVector, b, 1, e), transposeB: true);
        return Ops.Reshape(scores, b, n - 1);
    }

    /// <summary>
    /// Lives τ [B, N−1]: each image's scores standardised to the schedule's mean μ and standard
    /// deviation σ.
    /// </summary>
    public Tensor Lives(Tensor tokens, LifeStatistics statistics)
    {
        var s = Scores(tokens);
        var centred = Ops.Subtract(s, Ops.Mean(s, -1, keepDim: true));
        var std = Ops.Sqrt(Ops.Add(Ops.Mean(Ops.Mul(centred, centred), -1, keepDim: true), Ops.Scalar(1e-6f)));
        return Ops.Add(Ops.Scale(Ops.Mul(centred, Ops.Reciprocal(std)), (float)statistics.StdDev), Ops.Scalar((float)statistics.Mean));
    }
}
