namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    private readonly ManagedGemm _batchedGemm = new();
    private IGemmKernel? _gemm;

    /// <summary>
    /// The kernel of single large products (linear layers): OpenBLAS unless <c>TOKENIDLE_GEMM=managed</c>
    /// (docs/benchmarks.md has the measurement behind the default). Set it to switch for the whole
    /// process. Batches of small products (attention heads) always run on <see cref="ManagedGemm"/>
    /// across threads, since OpenBLAS serialises concurrent calls.
    /// </summary>
    /// <exception cref="InvalidOperationException">OpenBLAS is asked for (the default) and cannot be loaded.</exception>
    public IGemmKernel GemmKernel
    {
        get => _gemm ??= CreateDefaultGemm();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.SetThreads(_threads);
            _gemm = value;
        }
    }

    private static IGemmKernel CreateDefaultGemm()
    {
        var choice = Environment.GetEnvironmentVariable("TOKENIDLE_GEMM");
        IGemmKernel kernel = choice?.ToLowerInvariant() switch
        {
            null or "" or "openblas" => OpenBlasGemm.TryLoad(out var error) ?? throw new InvalidOperationException(error),
            "managed" => new ManagedGemm(),
            _ => throw new InvalidOperationException($"TOKENIDLE_GEMM='{choice}' is not a GEMM kernel: use openblas or managed"),
        };
        kernel.SetThreads(_threads);
        return kernel;
    }

    /// <inheritdoc/>
    public unsafe void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, int offA, int lda, int strideA,
        Tensor b, int offB, int ldb, int strideB,
        float beta, Tensor c, int offC, int ldc, int strideC, int batch)
    {
        var kernel = batch == 1 ? GemmKernel : _batchedGemm;
        fixed (float* pa = a.Data, pb = b.Data, pc = c.Data)
        {
            nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
            if (batch == 1 && kernel.ThreadsItself)
            {
                kernel.Gemm(transA, transB, m, n, k, alpha, pa + offA, lda, pb + offB, ldb, beta, pc + offC, ldc);
                return;
            }

            if (batch == 1)
            {
                // One product: row blocks of C on separate threads; row r of op(A) starts at r·lda, or at r when transposed.
                ParallelRanges(m, (long)n * k, (r0, r1) => kernel.Gemm(transA, transB, r1 - r0, n, k, alpha,
                    (float*)ia + offA + (transA ? r0 : (long)r0 * lda), lda,
                    (float*)ib + offB, ldb, beta,
                    (float*)ic + offC + (long)r0 * ldc, ldc), chunksPerThread: 1);
                return;
            }

            ParallelRanges(batch, (long)m * n * k, (i0, i1) =>
            {
                for (var i = i0; i < i1; i++)
                {
                    kernel.Gemm(transA, transB, m, n, k, alpha,
                        (float*)ia + offA + (long)i * strideA, lda,
                        (float*)ib + offB + (long)i * strideB, ldb, beta,
                        (float*)ic + offC + (long)i * strideC, ldc);
                }
            });
        }
    }
}
