namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Batched matrix product over the leading dimensions: a [..., m, k] times b [..., k, n]
    /// (or, with <paramref name="transposeB"/>, b [..., n, k] read as its transpose) → [..., m, n].
    /// Both operands have the same leading dimensions.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeB = false)
    {
        var ok = a.Rank >= 2 && a.Rank == b.Rank;
        for (var i = 0; ok && i < a.Rank - 2; i++)
        {
            ok = a.Size(i) == b.Size(i);
        }

        var (m, k) = ok ? (a.Size(-2), a.Size(-1)) : (0, 0);
        var n = ok ? (transposeB ? b.Size(-2) : b.Size(-1)) : 0;
        if (!ok || (transposeB ? b.Size(-1) : b.Size(-2)) != k)
        {
            throw new ArgumentException($"matmul: {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}{(transposeB ? "ᵀ" : string.Empty)} do not multiply (same leading dimensions, inner sizes equal)");
        }

        SameDevice(a, b, "matmul");
        var be = BackendOf(a);
        var batch = a.Length / (m * k);
        var ldb = transposeB ? k : n;
        var y = be.Empty(ShapeUtil.With(a.Shape, a.Rank - 1, n));
        be.Gemm(false, transposeB, m, n, k, 1f, a, 0, k, m * k, b, 0, ldb, n * k, 0f, y, 0, n, m * n, batch);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is not { } gy)
            {
                return;
            }

            if (a.RequiresGrad)
            {
                // dA = dY·op(B)ᵀ
                be.Gemm(false, !transposeB, m, k, n, 1f, gy, 0, n, m * n, b, 0, ldb, n * k, 1f, a.GradOrZeros(), 0, k, m * k, batch);
            }

            if (b.RequiresGrad)
            {
                // dB = Aᵀ·dY, or its transpose dYᵀ·A when B is used transposed
                if (transposeB)
                {
                    be.Gemm(true, false, n, k, m, 1f, gy, 0, n, m * n, a, 0, k, m * k, 1f, b.GradOrZeros(), 0, k, n * k, batch);
                }
                else
                {
                    be.Gemm(true, false, k, n, m, 1f, a, 0, k, m * k, gy, 0, n, m * n, 1f, b.GradOrZeros(), 0, n, n * k, batch);
                }
            }
        }, a, b);
        return y;
    }
}
