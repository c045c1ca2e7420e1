using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, float arg, Tensor x, Tensor y)
        => ParallelRanges(x.Length, 8, (i0, i1) =>
        {
            ReadOnlySpan<float> xs = x.Data[i0..i1];
            var ys = y.Data[i0..i1];
            switch (op)
            {
                case UnaryOp.Sqrt:
                    TensorPrimitives.Sqrt(xs, ys);
                    break;
                case UnaryOp.Reciprocal:
                    TensorPrimitives.Reciprocal(xs, ys);
                    break;
                case UnaryOp.ClampMin:
                    TensorPrimitives.Max(xs, arg, ys);
                    break;
                case UnaryOp.LogSigmoid:
                    for (var i = 0; i < xs.Length; i++)
                    {
                        var v = xs[i];
                        ys[i] = MathF.Min(v, 0f) - MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
                    }

                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary operation");
            }
        });

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, float arg, Tensor dy, Tensor x, Tensor y, Tensor dx)
        => ParallelRanges(x.Length, 8, (i0, i1) =>
        {
            ReadOnlySpan<float> xs = x.Data[i0..i1], ys = y.Data[i0..i1], gs = dy.Data[i0..i1];
            var dxs = dx.Data[i0..i1];
            for (var i = 0; i < xs.Length; i++)
            {
                dxs[i] += gs[i] * op switch
                {
                    UnaryOp.Sqrt => 0.5f / ys[i],
                    UnaryOp.Reciprocal => -ys[i] * ys[i],
                    UnaryOp.ClampMin => xs[i] >= arg ? 1f : 0f,

                    // d log σ(x) / dx = σ(−x) = 1 − e^{log σ(x)}
                    UnaryOp.LogSigmoid => 1f - MathF.Exp(ys[i]),
                    _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary operation"),
                };
            }
        });
}
