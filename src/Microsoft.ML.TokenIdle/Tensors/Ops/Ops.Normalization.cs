namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>Layer normalisation over the last dimension with gain γ and bias β ([E] each; biased variance, as PyTorch).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        var e = gamma.Length;
        if (gamma.Rank != 1 || beta.Length != e || x.Size(-1) != e)
        {
            throw new ArgumentException($"layer_norm: input {ShapeUtil.Format(x.Shape)}, weight {ShapeUtil.Format(gamma.Shape)}, bias {ShapeUtil.Format(beta.Shape)} disagree on the last dimension");
        }

        var be = BackendOf(x);
        var rows = x.Length / e;
        var y = be.Empty(x.ShapeArray.ToArray());
        var mean = be.Empty(new[] { rows });
        var rstd = be.Empty(new[] { rows });
        be.LayerNormForward(x, gamma, beta, eps, y, mean, rstd);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy)
            {
                be.LayerNormBackward(gy, x, gamma, mean, rstd,
                    x.RequiresGrad ? x.GradOrZeros() : null,
                    gamma.RequiresGrad ? gamma.GradOrZeros() : null,
                    beta.RequiresGrad ? beta.GradOrZeros() : null);
            }
        }, x, gamma, beta);
        return y;
    }
}
