using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// timm's initialisation of a ViT, drawn from one seeded generator: linear weights truncated normal (std 0.02,
/// cut at ±2), biases 0, LayerNorm 1 and 0; the patch convolution keeps PyTorch's default (uniform ±1/√fan_in).
/// Draws go through tensor methods, not <c>nn.init</c>: TorchSharp 0.107's <c>nn.init</c> functions ignore their
/// generator (and its <c>trunc_normal_</c> swaps mean and std), which would make seeds meaningless. A null generator
/// skips the draw: a model built to receive stored weights is not initialised first (faster, and it runs none of the
/// scalar arithmetic that TorchSharp's finalizer race can break, see docs/reliability.md).
/// </summary>
internal static class TimmInit
{
    /// <summary>Truncated normal weight, zero bias.</summary>
    public static void Linear(Linear layer, Generator? generator)
    {
        if (generator is null)
        {
            return;
        }

        TruncatedNormal(layer.weight!, 0.02, generator);
        if (layer.bias is { } bias)
        {
            using var _ = no_grad();
            bias.zero_();
        }
    }

    /// <summary>Uniform ±1/√fan_in for weight and bias, PyTorch's default for convolutions.</summary>
    public static void Convolution(Conv2d layer, Generator? generator)
    {
        if (generator is null)
        {
            return;
        }

        using var _ = no_grad();
        var weight = layer.weight!;
        var bound = 1 / Math.Sqrt(weight.shape[1] * weight.shape[2] * weight.shape[3]);
        weight.uniform_(-bound, bound, generator);
        layer.bias?.uniform_(-bound, bound, generator);
    }

    /// <summary>
    /// N(0, std²) restricted to [−2, 2] (absolute bounds, as timm's <c>trunc_normal_</c>), by inverse-CDF sampling:
    /// uniform between the bounds' CDF values, mapped back through erfinv.
    /// </summary>
    public static void TruncatedNormal(Tensor target, double std, Generator? generator)
    {
        if (generator is null)
        {
            return;
        }

        const double Bound = 2;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // 2·Φ(±Bound/std) − 1 = erf(±Bound/(std·√2)): the uniform's range.
        var range = tensor(new[] { -Bound, Bound }, float64, device: CPU).div(std * Math.Sqrt(2)).erf();
        target.uniform_(range[0].item<double>(), range[1].item<double>(), generator).erfinv_().mul_(std * Math.Sqrt(2)).clamp_(-Bound, Bound);
    }

    /// <summary>N(0, std²) for every element.</summary>
    public static void Normal(Tensor tensor, double std, Generator? generator)
    {
        if (generator is null)
        {
            return;
        }

        using var _ = no_grad();
        tensor.normal_(0, std, generator);
    }
}
