using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void SoftmaxForward(Tensor x, Tensor y, bool log)
    {
        var n = x.Size(-1);
        ParallelRanges(x.Length / n, n * 4, (r0, r1) =>
        {
            var xs = x.Data;
            var ys = y.Data;
            for (var r = r0; r < r1; r++)
            {
                SoftmaxRow(xs.Slice(r * n, n), ys.Slice(r * n, n), log);
            }
        });
    }

    /// <summary>Numerically stable softmax or log-softmax of one row (input and output may be the same span).</summary>
    internal static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        var max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        if (log)
        {
            var sum = 0f;
            foreach (var v in y)
            {
                sum += MathF.Exp(v);
            }

            TensorPrimitives.Subtract(y, MathF.Log(sum), y);
            return;
        }

        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor dy, Tensor y, bool log, Tensor dx)
    {
        var n = y.Size(-1);
        ParallelRanges(y.Length / n, n * 4, (r0, r1) =>
        {
            var scratch = log ? new float[n] : null;
            for (var r = r0; r < r1; r++)
            {
                var dyr = dy.Data.Slice(r * n, n);
                var yr = y.Data.Slice(r * n, n);
                var dxr = dx.Data.Slice(r * n, n);
                if (log)
                {
                    // dx = dy − softmax·Σdy, softmax = exp(log-softmax)
                    TensorPrimitives.Exp(yr, scratch);
                    TensorPrimitives.MultiplyAdd(scratch, -TensorPrimitives.Sum(dyr), dxr, dxr);
                    TensorPrimitives.Add(dxr, dyr, dxr);
                }
                else
                {
                    SoftmaxRowBackward(dyr, yr, dxr, accumulate: true);
                }
            }
        });
    }

    /// <summary>dx (+)= y·(dy − ⟨dy, y⟩) for one row; without accumulation dx may alias dy.</summary>
    internal static void SoftmaxRowBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, Span<float> dx, bool accumulate)
    {
        var dot = TensorPrimitives.Dot(dy, y);
        for (var j = 0; j < y.Length; j++)
        {
            var v = y[j] * (dy[j] - dot);
            dx[j] = accumulate ? dx[j] + v : v;
        }
    }
}
