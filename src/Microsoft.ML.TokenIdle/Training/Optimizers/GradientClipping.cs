using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Optimizers;

/// <summary>Global gradient-norm clipping, as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient by max_norm / (‖g‖ + 1e-6) when the global L2 norm ‖g‖ exceeds
    /// <paramref name="maxNorm"/>; returns ‖g‖ before clipping (NaN or ∞ when a gradient is not finite).
    /// </summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        var list = parameters.ToList();
        var norm = GlobalNorm(list);
        if (norm > maxNorm)
        {
            var factor = (float)(maxNorm / (norm + 1e-6));
            foreach (var g in list.Select(p => p.Grad).OfType<Tensor>())
            {
                Ops.BackendOf(g).Scale(factor, g, g);
            }
        }

        return norm;
    }

    /// <summary>The L2 norm of all the parameters' gradients together (parameters without one are skipped).</summary>
    public static double GlobalNorm(IEnumerable<Tensor> parameters)
        => Math.Sqrt(parameters.Select(p => p.Grad).OfType<Tensor>().Sum(g => Ops.BackendOf(g).SquaredSum(g)));
}
