namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>Shape arithmetic and the shape part of error messages.</summary>
internal static class ShapeUtil
{
    public static int Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"negative dimension in shape {Format(shape)}");
            }

            n *= d;
        }

        if (n > Array.MaxLength)
        {
            throw new ArgumentException($"shape {Format(shape)} has {n} elements, more than one array can hold");
        }

        return (int)n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    public static int Axis(int axis, int rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is outside a rank-{rank} tensor");
        }

        return a;
    }

    public static int Offset(ReadOnlySpan<int> shape, ReadOnlySpan<int> index)
    {
        if (index.Length != shape.Length)
        {
            throw new ArgumentException($"index of rank {index.Length} for shape {Format(shape)}");
        }

        var offset = 0;
        for (var i = 0; i < shape.Length; i++)
        {
            if ((uint)index[i] >= (uint)shape[i])
            {
                throw new IndexOutOfRangeException($"index {index[i]} outside dimension {i} of shape {Format(shape)}");
            }

            offset = offset * shape[i] + index[i];
        }

        return offset;
    }

    /// <summary>Product of the dimensions before <paramref name="axis"/> (outer), and from after it (inner).</summary>
    public static (int Outer, int Inner) Split(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (var i = 0; i < axis; i++)
        {
            outer *= shape[i];
        }

        for (var i = axis + 1; i < shape.Length; i++)
        {
            inner *= shape[i];
        }

        return (outer, inner);
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static int[] With(ReadOnlySpan<int> shape, int axis, int size)
    {
        var s = shape.ToArray();
        s[axis] = size;
        return s;
    }
}
