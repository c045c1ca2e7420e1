using Microsoft.ML.TokenIdle.Tensors.Cpu;

namespace Microsoft.ML.TokenIdle.Tests.Tensors.Cpu;

public class GemmKernelTests
{
    public static TheoryData<string> Kernels => new() { "managed", "openblas" };

    private static IGemmKernel Create(string name) => name == "managed"
        ? new ManagedGemm()
        : OpenBlasGemm.TryLoad(out var error) ?? throw new InvalidOperationException(error);

    [Theory]
    [MemberData(nameof(Kernels))]
    public unsafe void MatchesNaiveProductForAllTransposesAndRaggedSizes(string name)
    {
        var kernel = Create(name);
        var random = new Random(4);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 5), (13, 70, 300), (64, 65, 257) })
        {
            foreach (var ta in new[] { false, true })
            {
                foreach (var tb in new[] { false, true })
                {
                    var a = Enumerable.Range(0, m * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
                    var b = Enumerable.Range(0, k * n).Select(_ => random.NextSingle() - 0.5f).ToArray();
                    var c = Enumerable.Range(0, m * n).Select(_ => random.NextSingle()).ToArray();
                    var expected = new double[m * n];
                    for (var i = 0; i < m; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            double s = 0;
                            for (var p = 0; p < k; p++)
                            {
                                s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                            }

                            expected[i * n + j] = 0.5 * s + 0.25 * c[i * n + j];
                        }
                    }

                    fixed (float* pa = a, pb = b, pc = c)
                    {
                        kernel.Gemm(ta, tb, m, n, k, 0.5f, pa, ta ? m : k, pb, tb ? k : n, 0.25f, pc, n);
                    }

                    for (var i = 0; i < m * n; i++)
                    {
                        Assert.True(Math.Abs(c[i] - expected[i]) < 1e-4, $"{name} {m}x{n}x{k} ta={ta} tb={tb} at {i}: {c[i]} vs {expected[i]}");
                    }
                }
            }
        }
    }
}
