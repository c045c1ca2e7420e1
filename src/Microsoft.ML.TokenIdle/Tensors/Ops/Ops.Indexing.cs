namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Batched index select along <paramref name="axis"/>: with x viewed as [outer, len, inner],
    /// result[o, j] = x[o, index[o·k + j]] for k = index.Length / outer (e.g. rows of the token axis
    /// of [B,N,E] per image).
    /// </summary>
    public static Tensor Gather(Tensor x, int axis, int[] index)
    {
        var (ax, outer, len, inner, k) = IndexGeometry(x, axis, index, "gather");
        var be = BackendOf(x);
        var y = be.Empty(ShapeUtil.With(x.Shape, ax, k));
        be.Gather(x, outer, len, inner, index, k, y, IndexMode.Gather);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                be.Gather(x.GradOrZeros(), outer, len, inner, index, k, gy, IndexMode.ScatterAdd);
            }
        }, x);
        return y;
    }

    /// <summary>
    /// Writes rows back: a copy of x in which x[o, index[o·k + j]] is replaced by values[o, j]
    /// (indices distinct within each o). Gradients flow to the untouched rows of x and to values.
    /// </summary>
    public static Tensor Scatter(Tensor x, int axis, int[] index, Tensor values)
    {
        var (ax, outer, len, inner, k) = IndexGeometry(x, axis, index, "scatter");
        if (!ShapeUtil.SameShape(values.Shape, ShapeUtil.With(x.Shape, ax, k)))
        {
            throw ShapeError("scatter", $"values must be {ShapeUtil.Format(ShapeUtil.With(x.Shape, ax, k))}", values.Shape);
        }

        var be = BackendOf(x);
        var y = x.Clone();
        be.Gather(y, outer, len, inner, index, k, values, IndexMode.Scatter);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is not { } gy)
            {
                return;
            }

            if (values.RequiresGrad)
            {
                var gv = be.Empty(values.ShapeArray.ToArray());
                be.Gather(gy, outer, len, inner, index, k, gv, IndexMode.Gather);
                AccumulateGrad(values, gv);
            }

            if (x.RequiresGrad)
            {
                var gx = gy.Clone();
                be.Gather(gx, outer, len, inner, index, k, be.Zeros(values.ShapeArray.ToArray()), IndexMode.Scatter);
                AccumulateGrad(x, gx);
            }
        }, x, values);
        return y;
    }

    private static (int Axis, int Outer, int Len, int Inner, int K) IndexGeometry(Tensor x, int axis, int[] index, string op)
    {
        var ax = ShapeUtil.Axis(axis, x.Rank);
        var (outer, inner) = ShapeUtil.Split(x.Shape, ax);
        var len = x.Size(ax);
        if (outer == 0 || index.Length % outer != 0)
        {
            throw new ArgumentException($"{op}: {index.Length} indices do not split evenly over the {outer} leading entries of {ShapeUtil.Format(x.Shape)}");
        }

        foreach (var i in index)
        {
            if ((uint)i >= (uint)len)
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"{op}: index {i} is outside axis {ax} of length {len}");
            }
        }

        return (ax, outer, len, inner, index.Length / outer);
    }

    /// <summary>
    /// The k largest entries of each row (last dimension), largest first (ties: lower index first).
    /// Values carry gradients; indices are constants.
    /// </summary>
    public static (Tensor Values, int[] Indices) TopK(Tensor x, int k)
    {
        if (x.Rank == 0 || k < 0 || k > x.Size(-1))
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"top_k: k = {k} for a last dimension of {(x.Rank == 0 ? 0 : x.Size(-1))}");
        }

        var indices = BackendOf(x).TopKIndices(x, k);
        return (Gather(x, -1, indices), indices);
    }

    /// <summary>Indices that sort each row (last dimension) in descending order (ties: lower index first).</summary>
    public static int[] ArgSortDescending(Tensor x) => TopK(x, x.Size(-1)).Indices;
}
