namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>Sum over <paramref name="axis"/>; the axis is removed unless <paramref name="keepDim"/>.</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepDim = false)
    {
        var ax = ShapeUtil.Axis(axis, x.Rank);
        var (outer, inner) = ShapeUtil.Split(x.Shape, ax);
        var len = x.Size(ax);
        var shape = keepDim ? ShapeUtil.With(x.Shape, ax, 1) : x.ShapeArray.Where((_, i) => i != ax).ToArray();
        if (shape.Length == 0)
        {
            shape = new[] { 1 };
        }

        var be = BackendOf(x);
        var y = be.Empty(shape);
        be.SumAlongAxis(x, outer, len, inner, y, reverseAccumulate: false);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                be.SumAlongAxis(x.GradOrZeros(), outer, len, inner, gy, reverseAccumulate: true);
            }
        }, x);
        return y;
    }

    /// <summary>Mean over <paramref name="axis"/>.</summary>
    public static Tensor Mean(Tensor x, int axis, bool keepDim = false) => Scale(Sum(x, axis, keepDim), 1f / x.Size(axis));

    /// <summary>Sum of all elements, shape [1].</summary>
    public static Tensor Sum(Tensor x) => Sum(Reshape(x, x.Length), 0);

    /// <summary>Mean of all elements, shape [1].</summary>
    public static Tensor Mean(Tensor x) => Scale(Sum(x), 1f / x.Length);
}
