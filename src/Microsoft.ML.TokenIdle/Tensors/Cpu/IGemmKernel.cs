namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

/// <summary>One single-precision row-major matrix product C = alpha·op(A)·op(B) + beta·C.</summary>
public interface IGemmKernel
{
    /// <summary>Short name for logs and benchmarks (<c>openblas</c>, <c>managed</c>).</summary>
    string Name { get; }

    /// <summary>Threads a single large product may use.</summary>
    void SetThreads(int threads);

    /// <summary>Computes one product; pointers address the first element of each matrix.</summary>
    unsafe void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool parallel);
}
