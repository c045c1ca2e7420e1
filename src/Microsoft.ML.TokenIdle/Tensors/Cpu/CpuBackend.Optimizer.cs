using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public double SquaredSum(Tensor x)
    {
        double sum = 0;
        const int chunk = 1 << 16;
        var data = x.Data;
        for (var i = 0; i < data.Length; i += chunk)
        {
            var part = data.Slice(i, Math.Min(chunk, data.Length - i));
            sum += TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)part);
        }

        return sum;
    }

    /// <inheritdoc/>
    public void AdamWUpdate(Tensor parameter, Tensor gradient, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, float correction1, float correction2)
        => ParallelRanges(parameter.Length, 16, (i0, i1) =>
        {
            var p = parameter.Data[i0..i1];
            var g = gradient.Data[i0..i1];
            var ms = m.Data[i0..i1];
            var vs = v.Data[i0..i1];
            var decay = 1f - lr * weightDecay;
            for (var i = 0; i < p.Length; i++)
            {
                ms[i] = beta1 * ms[i] + (1f - beta1) * g[i];
                vs[i] = beta2 * vs[i] + (1f - beta2) * g[i] * g[i];
                p[i] = p[i] * decay - lr * (ms[i] / correction1) / (MathF.Sqrt(vs[i] / correction2) + eps);
            }
        });
}
