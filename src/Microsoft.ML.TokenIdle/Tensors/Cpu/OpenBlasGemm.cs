using System.Reflection;
using System.Runtime.InteropServices;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

/// <summary>
/// cblas_sgemm from a native OpenBLAS, bound at run time with <see cref="NativeLibrary"/>. OpenBLAS
/// threads each call itself: calls from several threads at once were measured to serialise.
/// The library is looked up from <c>TOKENIDLE_OPENBLAS</c> (a file path) first, then by the names
/// Debian's <c>libopenblas0-pthread</c> installs.
/// </summary>
public sealed unsafe class OpenBlasGemm : IGemmKernel
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private static readonly string[] Candidates =
    {
        "libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "libopenblas.so",
        "libopenblas.dylib",
        "libopenblas.dll",
    };

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;

    private OpenBlasGemm(IntPtr library)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(library, "cblas_sgemm");
        _setThreads = NativeLibrary.TryGetExport(library, "openblas_set_num_threads", out var setThreads)
            ? (delegate* unmanaged<int, void>)setThreads
            : null;
    }

    /// <inheritdoc/>
    public string Name => "openblas";

    /// <inheritdoc/>
    public bool ThreadsItself => true;

    /// <inheritdoc/>
    public void SetThreads(int threads)
    {
        if (_setThreads is not null)
        {
            _setThreads(threads);
        }
    }

    /// <summary>Loads OpenBLAS, or returns null with the reason.</summary>
    public static OpenBlasGemm? TryLoad(out string error)
    {
        var overridePath = Environment.GetEnvironmentVariable("TOKENIDLE_OPENBLAS");
        var names = string.IsNullOrEmpty(overridePath) ? Candidates : new[] { overridePath };
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, Assembly.GetExecutingAssembly(), null, out var handle)
                && NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _))
            {
                error = string.Empty;
                return new OpenBlasGemm(handle);
            }
        }

        error = string.IsNullOrEmpty(overridePath)
            ? "OpenBLAS was not found (install it with 'sudo apt-get install -y libopenblas0-pthread', point TOKENIDLE_OPENBLAS at libopenblas.so, or set TOKENIDLE_GEMM=managed)"
            : $"TOKENIDLE_OPENBLAS='{overridePath}' is not a loadable library exporting cblas_sgemm";
        return null;
    }

    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
