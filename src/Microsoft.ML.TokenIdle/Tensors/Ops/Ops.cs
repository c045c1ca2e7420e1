using Microsoft.ML.TokenIdle.Tensors.Cpu;

namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>
/// Differentiable tensor operations. Each checks its arguments, runs the forward kernel of the
/// tensors' backend and, when a <see cref="GradientTape"/> records, registers its backward step.
/// </summary>
public static partial class Ops
{
    /// <summary>The backend that computes on <paramref name="t"/>'s device.</summary>
    /// <exception cref="NotSupportedException">No backend for that device is loaded.</exception>
    public static IComputeBackend BackendOf(Tensor t) => t.Device.Type switch
    {
        DeviceType.Cpu => CpuBackend.Instance,
        _ => throw new NotSupportedException($"no compute backend is loaded for {t.Device}"),
    };

    private static void SameDevice(Tensor a, Tensor b, string op)
    {
        if (a.Device != b.Device)
        {
            throw new ArgumentException($"{op}: tensors on {a.Device} and {b.Device}");
        }
    }

    private static ArgumentException ShapeError(string op, string what, ReadOnlySpan<int> shape)
        => new($"{op}: {what}, got {ShapeUtil.Format(shape)}");

    /// <summary>target.Grad += alpha·g (same element count); a first gradient is written, not added to zeros.</summary>
    private static void AccumulateGrad(Tensor target, Tensor g, float alpha = 1f)
    {
        var be = BackendOf(target);
        if (target.Grad is null)
        {
            target.Grad = be.Empty(target.ShapeArray.ToArray());
            be.Scale(alpha, g, target.Grad);
        }
        else
        {
            be.Axpy(alpha, g, target.Grad);
        }
    }

    /// <summary>A scalar tensor of shape [1].</summary>
    public static Tensor Scalar(float value) => Tensor.FromArray(new[] { value }, 1);
}
