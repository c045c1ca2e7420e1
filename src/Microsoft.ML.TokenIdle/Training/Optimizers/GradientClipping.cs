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
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        var norm = Math.Sqrt(grads.Sum(g => Ops.BackendOf(g).SquaredSum(g)));
        if (norm > maxNorm)
        {
            var factor = (float)(maxNorm / (norm + 1e-6));
            foreach (var g in grads)
            {
                Ops.BackendOf(g).Scale(factor, g, g);
            }
        }

        return norm;
    }
}
