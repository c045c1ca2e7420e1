using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <inheritdoc/>
    public void GeluForward(Tensor x, Tensor y)
        => ParallelRanges(x.Length, 16, (i0, i1) => GeluSpan(x.Data[i0..i1], default, y.Data[i0..i1], backward: false));

    /// <inheritdoc/>
    public void GeluBackward(Tensor dy, Tensor x, Tensor dx)
        => ParallelRanges(x.Length, 24, (i0, i1) => GeluSpan(x.Data[i0..i1], dy.Data[i0..i1], dx.Data[i0..i1], backward: true));

    /// <summary>
    /// GELU(u) = u·Φ(u), Φ(u) = ½(1 + erf(u/√2)); backward adds dy·(Φ(u) + u·φ(u)) to the output.
    /// erf comes from the erfc Chebyshev fit of Numerical Recipes (relative error below 1.2e-7).
    /// </summary>
    private static void GeluSpan(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> output, bool backward)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var u = Vector512.Create(x.Slice(i, Vector512<float>.Count));
                var z = u * InvSqrt2;
                var (erf, gauss) = Erf(z);
                var phi = (Vector512<float>.One + erf) * 0.5f;
                var target = output.Slice(i, Vector512<float>.Count);
                if (backward)
                {
                    var dyv = Vector512.Create(dy.Slice(i, Vector512<float>.Count));
                    var derivative = phi + u * gauss * InvSqrt2Pi;
                    (Vector512.Create((ReadOnlySpan<float>)target) + dyv * derivative).CopyTo(target);
                }
                else
                {
                    (u * phi).CopyTo(target);
                }
            }
        }

        for (; i < x.Length; i++)
        {
            var u = x[i];
            var (erf, gauss) = Erf(u * InvSqrt2);
            var phi = 0.5f * (1f + erf);
            output[i] = backward ? output[i] + dy[i] * (phi + u * gauss * InvSqrt2Pi) : u * phi;
        }
    }

    /// <summary>erf(z) and exp(−z²) for a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Erf, Vector512<float> Gauss) Erf(Vector512<float> z)
    {
        var a = Vector512.Abs(z);
        var t = Vector512<float>.One / (Vector512<float>.One + a * 0.5f);
        var p = Vector512.Create(0.17087277f);
        p = p * t + Vector512.Create(-0.82215223f);
        p = p * t + Vector512.Create(1.48851587f);
        p = p * t + Vector512.Create(-1.13520398f);
        p = p * t + Vector512.Create(0.27886807f);
        p = p * t + Vector512.Create(-0.18628806f);
        p = p * t + Vector512.Create(0.09678418f);
        p = p * t + Vector512.Create(0.37409196f);
        p = p * t + Vector512.Create(1.00002368f);
        p = p * t + Vector512.Create(-1.26551223f);
        var negSq = -(a * a);
        var erfc = t * Vector512.Exp(negSq + p);
        var magnitude = Vector512<float>.One - erfc;
        var erf = Vector512.ConditionalSelect(Vector512.LessThan(z, Vector512<float>.Zero), -magnitude, magnitude);
        return (erf, Vector512.Exp(negSq));
    }

    /// <summary>erf(z) and exp(−z²) for one value (same fit as the vector form).</summary>
    internal static (float Erf, float Gauss) Erf(float z)
    {
        var a = MathF.Abs(z);
        var t = 1f / (1f + 0.5f * a);
        var p = ((((((((0.17087277f * t - 0.82215223f) * t + 1.48851587f) * t - 1.13520398f) * t + 0.27886807f) * t
            - 0.18628806f) * t + 0.09678418f) * t + 0.37409196f) * t + 1.00002368f) * t - 1.26551223f;
        var erfc = t * MathF.Exp(-a * a + p);
        return (z < 0 ? erfc - 1f : 1f - erfc, MathF.Exp(-a * a));
    }
}
