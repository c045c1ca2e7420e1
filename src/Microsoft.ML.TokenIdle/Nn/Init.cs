using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>Parameter initialisers with timm's conventions.</summary>
public static class Init
{
    /// <summary>
    /// Normal(0, std) truncated to [a, b] by rejection (timm's <c>trunc_normal_</c>: the bounds are
    /// absolute values, −2 and 2 by default).
    /// </summary>
    public static Tensor TruncatedNormal(Random random, float std, int[] shape, float a = -2f, float b = 2f)
    {
        var t = Tensor.Zeros(shape);
        var data = t.Data;
        for (var i = 0; i < data.Length; i++)
        {
            float v;
            do
            {
                v = std * StandardNormal(random);
            }
            while (v < a || v > b);
            data[i] = v;
        }

        return t;
    }

    /// <summary>Normal(0, std).</summary>
    public static Tensor Normal(Random random, float std, int[] shape) => TruncatedNormal(random, std, shape, float.NegativeInfinity, float.PositiveInfinity);

    /// <summary>Uniform(−bound, bound), PyTorch's default for convolutions (bound = 1/√fan_in).</summary>
    public static Tensor Uniform(Random random, float bound, int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var data = t.Data;
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (2f * random.NextSingle() - 1f) * bound;
        }

        return t;
    }

    private static float StandardNormal(Random random)
    {
        // Box–Muller; 1 − U keeps the logarithm finite.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
