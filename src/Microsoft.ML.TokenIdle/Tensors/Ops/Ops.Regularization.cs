namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p).</summary>
    public static Tensor Dropout(Tensor x, float p, Random random)
    {
        CheckProbability(p, "dropout");
        if (p == 0f)
        {
            return x;
        }

        var mask = new float[x.Length];
        var keep = 1f / (1f - p);
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = random.NextSingle() < p ? 0f : keep;
        }

        return Mul(x, Tensor.FromArray(mask, x.ShapeArray.ToArray()));
    }

    /// <summary>Stochastic depth: drops the whole residual branch of each sample (dimension 0) with probability p, scaling survivors by 1/(1−p).</summary>
    public static Tensor DropPath(Tensor x, float p, Random random)
    {
        CheckProbability(p, "drop_path");
        if (p == 0f)
        {
            return x;
        }

        var shape = new int[x.Rank];
        Array.Fill(shape, 1);
        shape[0] = x.Size(0);
        var mask = new float[shape[0]];
        var keep = 1f / (1f - p);
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = random.NextSingle() < p ? 0f : keep;
        }

        return Mul(x, Tensor.FromArray(mask, shape));
    }

    private static void CheckProbability(float p, string op)
    {
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"{op}: probability {p} is outside [0, 1)");
        }
    }
}
