using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

/// <summary>
/// Kernels on host memory: TensorPrimitives and Vector512 for the element work, a selectable GEMM
/// (<see cref="IGemmKernel"/>) for the matrix products, work split over rows across
/// <see cref="Threads"/> threads.
/// </summary>
public sealed partial class CpuBackend : IComputeBackend
{
    private static int _threads = Environment.ProcessorCount;

    /// <summary>The process-wide CPU backend.</summary>
    public static CpuBackend Instance { get; } = new();

    /// <summary>Threads the kernels use (default: all processors).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public static int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Threads));
            _threads = value;
            Instance.GemmKernel.SetThreads(value);
        }
    }

    /// <inheritdoc/>
    public Device Device => Device.Cpu;

    /// <inheritdoc/>
    public Tensor Zeros(int[] shape) => Tensor.Allocate(shape, clear: true);

    /// <inheritdoc/>
    public Tensor Empty(int[] shape) => Tensor.Allocate(shape, clear: false);

    /// <summary>
    /// Runs body(start, end) over [0, count) in contiguous chunks, <paramref name="chunksPerThread"/>
    /// per thread (more chunks balance uneven work); serial for small work.
    /// </summary>
    internal static void ParallelRanges(int count, long workPerItem, Action<int, int> body, int chunksPerThread = 4)
    {
        var threads = Math.Min(_threads, count);
        if (threads <= 1 || count * workPerItem < 32_768)
        {
            body(0, count);
            return;
        }

        var chunks = Math.Min(threads * chunksPerThread, count);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            var start = (int)((long)count * c / chunks);
            var end = (int)((long)count * (c + 1) / chunks);
            body(start, end);
        });
    }

    /// <inheritdoc/>
    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        var xs = x.Data;
        var ys = y.Data;
        if (alpha == 1f)
        {
            TensorPrimitives.Add(ys, xs, ys);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(xs, alpha, ys, ys);
        }
    }

    /// <inheritdoc/>
    public void Scale(float alpha, Tensor x, Tensor y) => TensorPrimitives.Multiply(x.Data, alpha, y.Data);

    /// <inheritdoc/>
    public void AddRowBias(Tensor y, Tensor bias)
    {
        var n = bias.Length;
        var rows = y.Length / n;
        ParallelRanges(rows, n, (r0, r1) =>
        {
            var ys = y.Data;
            var bs = bias.Data;
            for (var r = r0; r < r1; r++)
            {
                var row = ys.Slice(r * n, n);
                TensorPrimitives.Add(row, bs, row);
            }
        });
    }

    /// <inheritdoc/>
    public void ColumnSumAccumulate(Tensor dy, Tensor dbias)
    {
        var n = dbias.Length;
        var rows = dy.Length / n;
        var ds = dy.Data;
        var acc = dbias.Data;
        for (var r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(acc, ds.Slice(r * n, n), acc);
        }
    }
}
