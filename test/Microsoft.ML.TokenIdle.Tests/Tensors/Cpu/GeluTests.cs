using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Tensors.Cpu;

namespace Microsoft.ML.TokenIdle.Tests.Tensors.Cpu;

public class GeluTests
{
    /// <summary>erf by its Maclaurin series in double (accurate to ~1e-9 for |z| ≤ 4).</summary>
    private static double ReferenceErf(double z)
    {
        double sum = 0, term = z;
        for (var n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -z * z / (n + 1);
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Fact]
    public void ErfMatchesSeriesWithinFloatPrecision()
    {
        for (var z = -4.0; z <= 4.0; z += 0.01)
        {
            var (erf, _) = CpuBackend.Erf((float)z);
            Assert.True(Math.Abs(erf - ReferenceErf(z)) < 3e-7, $"erf({z}) = {erf}, reference {ReferenceErf(z)}");
        }
    }

    [Fact]
    public void VectorAndScalarPathsAgreeWithExactGelu()
    {
        var values = Enumerable.Range(0, 203).Select(i => (i - 101) * 0.07f).ToArray();
        var y = Ops.Gelu(Tensor.FromArray(values, values.Length)).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            var u = values[i];
            var exact = 0.5 * u * (1 + ReferenceErf(u / Math.Sqrt(2)));
            Assert.True(Math.Abs(y[i] - exact) < 1e-6, $"gelu({u}) = {y[i]}, exact {exact}");
        }
    }
}
