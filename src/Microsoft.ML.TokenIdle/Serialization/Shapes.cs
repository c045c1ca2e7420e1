namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>Shape arithmetic and text for tensors read from or written to files.</summary>
public static class Shapes
{
    /// <summary>The number of elements of <paramref name="shape"/> (1 for a scalar shape).</summary>
    /// <exception cref="OverflowException">The count does not fit 64 bits.</exception>
    public static long Count(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count = checked(count * d);
        }

        return count;
    }

    /// <summary><c>[2,3,4]</c>.</summary>
    public static string Format(IEnumerable<long> shape) => $"[{string.Join(",", shape)}]";
}
