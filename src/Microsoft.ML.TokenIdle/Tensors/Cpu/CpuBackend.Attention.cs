using System.Buffers;
using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public unsafe void AttentionForward(Tensor qkv, int heads, float scale, Tensor? keyMask, Tensor output, Tensor probs)
    {
        var (batch, n, e) = (qkv.Size(0), qkv.Size(1), qkv.Size(2) / 3);
        var d = e / heads;
        var kernel = _batchedGemm;
        fixed (float* pqkv = qkv.Data, pout = output.Data, pp = probs.Data)
        {
            nint aq = (nint)pqkv, ao = (nint)pout, ap = (nint)pp;
            ParallelRanges(batch * heads, 2L * n * n * d, (t0, t1) =>
            {
                for (var t = t0; t < t1; t++)
                {
                    var (b, h) = (t / heads, t % heads);
                    var q = (float*)aq + (long)b * n * 3 * e + h * d;
                    var p = (float*)ap + (long)t * n * n;
                    kernel.Gemm(false, true, n, n, d, scale, q, 3 * e, q + e, 3 * e, 0f, p, n);
                    var rows = new Span<float>(p, n * n);
                    for (var i = 0; i < n; i++)
                    {
                        var row = rows.Slice(i * n, n);
                        if (keyMask is not null)
                        {
                            TensorPrimitives.Add(row, keyMask.Data.Slice(b * n, n), row);
                        }

                        SoftmaxRow(row, row, log: false);
                    }

                    kernel.Gemm(false, false, n, d, n, 1f, p, n, q + 2 * e, 3 * e, 0f, (float*)ao + (long)b * n * e + h * d, e);
                }
            });
        }
    }

    /// <inheritdoc/>
    public unsafe void AttentionBackward(Tensor qkv, int heads, float scale, Tensor probs, Tensor? dOutput, Tensor? dProbs, Tensor dqkv, Tensor? dKeyMask)
    {
        var (batch, n, e) = (qkv.Size(0), qkv.Size(1), qkv.Size(2) / 3);
        var d = e / heads;
        var kernel = _batchedGemm;

        // Per (image, head) column sums of the logits' gradient, reduced over heads after the parallel loop.
        var maskSums = dKeyMask is null ? null : new float[batch * heads * n];
        fixed (float* pqkv = qkv.Data, pp = probs.Data, pdq = dqkv.Data)
        fixed (float* pdo = dOutput is null ? default : dOutput.Data, pdp = dProbs is null ? default : dProbs.Data)
        {
            nint aq = (nint)pqkv, ap = (nint)pp, adq = (nint)pdq, ado = (nint)pdo, adp = (nint)pdp;
            ParallelRanges(batch * heads, 4L * n * n * d, (t0, t1) =>
            {
                var scratch = ArrayPool<float>.Shared.Rent(n * n);
                try
                {
                    fixed (float* ds = scratch)
                    {
                        for (var t = t0; t < t1; t++)
                        {
                            var (b, h) = (t / heads, t % heads);
                            var q = (float*)aq + (long)b * n * 3 * e + h * d;
                            var dq = (float*)adq + (long)b * n * 3 * e + h * d;
                            var p = (float*)ap + (long)t * n * n;
                            var dsSpan = new Span<float>(ds, n * n);
                            if (ado != 0)
                            {
                                var dout = (float*)ado + (long)b * n * e + h * d;

                                // dV += Pᵀ·dO; dP = dO·Vᵀ
                                kernel.Gemm(true, false, n, d, n, 1f, p, n, dout, e, 1f, dq + 2 * e, 3 * e);
                                kernel.Gemm(false, true, n, n, d, 1f, dout, e, q + 2 * e, 3 * e, 0f, ds, n);
                            }
                            else
                            {
                                dsSpan.Clear();
                            }

                            if (adp != 0)
                            {
                                TensorPrimitives.Add(dsSpan, new ReadOnlySpan<float>((float*)adp + (long)t * n * n, n * n), dsSpan);
                            }

                            var pSpan = new ReadOnlySpan<float>(p, n * n);
                            for (var i = 0; i < n; i++)
                            {
                                var row = dsSpan.Slice(i * n, n);
                                SoftmaxRowBackward(row, pSpan.Slice(i * n, n), row, accumulate: false);
                                if (maskSums is not null)
                                {
                                    TensorPrimitives.Add(maskSums.AsSpan(t * n, n), row, maskSums.AsSpan(t * n, n));
                                }
                            }

                            // dQ += scale·dS·K; dK += scale·dSᵀ·Q
                            kernel.Gemm(false, false, n, d, n, scale, ds, n, q + e, 3 * e, 1f, dq, 3 * e);
                            kernel.Gemm(true, false, n, d, n, scale, ds, n, q, 3 * e, 1f, dq + e, 3 * e);
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(scratch);
                }
            });
        }

        if (dKeyMask is not null)
        {
            for (var t = 0; t < batch * heads; t++)
            {
                var row = dKeyMask.Data.Slice(t / heads * n, n);
                TensorPrimitives.Add(row, maskSums.AsSpan(t * n, n), row);
            }
        }
    }
}
