namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

/// <summary>
/// A single-precision, row-major matrix product C = alpha·op(A)·op(B) + beta·C. A kernel either
/// threads one product itself (<see cref="ThreadsItself"/>) or is single-threaded and safe to call
/// from several threads at once, in which case <see cref="CpuBackend"/> splits the work.
/// </summary>
public interface IGemmKernel
{
    /// <summary>Short name for logs and benchmarks (<c>openblas</c>, <c>managed</c>).</summary>
    string Name { get; }

    /// <summary>Whether one call uses several threads (set by <see cref="SetThreads"/>); such a kernel is called from one thread at a time.</summary>
    bool ThreadsItself { get; }

    /// <summary>Threads one call may use, when <see cref="ThreadsItself"/>.</summary>
    void SetThreads(int threads);

    /// <summary>Computes one product; pointers address the first element of each matrix.</summary>
    unsafe void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
