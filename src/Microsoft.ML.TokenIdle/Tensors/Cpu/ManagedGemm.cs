using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

/// <summary>
/// A cache-blocked GEMM in C#: op(B) is packed into 32-column panels per 256-deep slice of k, rows of
/// op(A) into 6-row panels, and a 6×32 register tile of Vector512 FMAs runs over them. Written for
/// AVX-512 machines; elsewhere .NET emulates Vector512 and it stays correct but slow.
/// </summary>
public sealed unsafe class ManagedGemm : IGemmKernel
{
    private const int Mr = 6;
    private const int Nr = 32;
    private const int Kc = 256;

    /// <inheritdoc/>
    public string Name => "managed";

    /// <inheritdoc/>
    public bool ThreadsItself => false;

    /// <inheritdoc/>
    public void SetThreads(int threads)
    {
    }

    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        ScaleOutput(m, n, beta, c, ldc);
        if (k == 0 || alpha == 0f)
        {
            return;
        }

        var panels = (n + Nr - 1) / Nr;
        var rowPanels = (m + Mr - 1) / Mr;
        var packedB = ArrayPool<float>.Shared.Rent(panels * Nr * Math.Min(k, Kc));
        try
        {
            var packedA = stackalloc float[Mr * Kc];
            fixed (float* pb = packedB)
            {
                for (var k0 = 0; k0 < k; k0 += Kc)
                {
                    var kc = Math.Min(Kc, k - k0);
                    PackB(transB, b, ldb, k0, kc, n, pb);
                    for (var p = 0; p < rowPanels; p++)
                    {
                        var row = p * Mr;
                        var rows = Math.Min(Mr, m - row);
                        PackA(transA, a, lda, row, rows, k0, kc, alpha, packedA);
                        for (var q = 0; q < panels; q++)
                        {
                            var col = q * Nr;
                            MicroKernel(kc, packedA, pb + (long)q * Nr * kc, c + (long)row * ldc + col, ldc, rows, Math.Min(Nr, n - col));
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedB);
        }
    }

    private static void ScaleOutput(int m, int n, float beta, float* c, int ldc)
    {
        if (beta == 1f)
        {
            return;
        }

        for (var i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }

    /// <summary>Packs op(B)[k0..k0+kc, 0..n) as panels of Nr columns, k-major inside, zero-padded.</summary>
    private static void PackB(bool transB, float* b, int ldb, int k0, int kc, int n, float* dst)
    {
        var panels = (n + Nr - 1) / Nr;
        for (var q = 0; q < panels; q++)
        {
            var col = q * Nr;
            var cols = Math.Min(Nr, n - col);
            var panel = dst + (long)q * Nr * kc;
            for (var kk = 0; kk < kc; kk++)
            {
                var d = panel + kk * Nr;
                if (!transB)
                {
                    var src = b + (long)(k0 + kk) * ldb + col;
                    for (var j = 0; j < cols; j++)
                    {
                        d[j] = src[j];
                    }
                }
                else
                {
                    var src = b + (long)col * ldb + k0 + kk;
                    for (var j = 0; j < cols; j++)
                    {
                        d[j] = src[(long)j * ldb];
                    }
                }

                for (var j = cols; j < Nr; j++)
                {
                    d[j] = 0f;
                }
            }
        }
    }

    /// <summary>Packs alpha·op(A)[row..row+rows, k0..k0+kc) k-major with Mr values per k, zero-padded.</summary>
    private static void PackA(bool transA, float* a, int lda, int row, int rows, int k0, int kc, float alpha, float* dst)
    {
        for (var kk = 0; kk < kc; kk++)
        {
            var d = dst + kk * Mr;
            for (var i = 0; i < Mr; i++)
            {
                d[i] = i >= rows ? 0f
                    : alpha * (transA ? a[(long)(k0 + kk) * lda + row + i] : a[(long)(row + i) * lda + k0 + kk]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel(int kc, float* pa, float* pb, float* c, int ldc, int rows, int cols)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var kk = 0; kk < kc; kk++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + 16);
            var a0 = Vector512.Create(pa[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(pa[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(pa[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(pa[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(pa[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(pa[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            pa += Mr;
            pb += Nr;
        }

        var tile = stackalloc float[Mr * Nr];
        c00.Store(tile); c01.Store(tile + 16);
        c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80);
        c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144);
        c50.Store(tile + 160); c51.Store(tile + 176);
        for (var i = 0; i < rows; i++)
        {
            var dst = new Span<float>(c + (long)i * ldc, cols);
            System.Numerics.Tensors.TensorPrimitives.Add(dst, new ReadOnlySpan<float>(tile + i * Nr, cols), dst);
        }
    }
}
