namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>√x element-wise.</summary>
    public static Tensor Sqrt(Tensor x) => Unary(UnaryOp.Sqrt, x);

    /// <summary>1 / x element-wise.</summary>
    public static Tensor Reciprocal(Tensor x) => Unary(UnaryOp.Reciprocal, x);

    /// <summary>max(x, min) element-wise (the gradient passes where x ≥ min).</summary>
    public static Tensor ClampMin(Tensor x, float min) => Unary(UnaryOp.ClampMin, x, min);

    /// <summary>log σ(x) element-wise, stable for large |x|.</summary>
    public static Tensor LogSigmoid(Tensor x) => Unary(UnaryOp.LogSigmoid, x);

    /// <summary>a − b, with b broadcast to a's shape.</summary>
    public static Tensor Subtract(Tensor a, Tensor b) => Add(a, Scale(b, -1f));

    /// <summary>
    /// x / max(‖x‖₂, eps) along the last dimension, as PyTorch's <c>F.normalize</c>.
    /// </summary>
    public static Tensor L2Normalize(Tensor x, float eps = 1e-12f)
    {
        var norm = Sqrt(ClampMin(Sum(Mul(x, x), -1, keepDim: true), eps * eps));
        return Mul(x, Reciprocal(norm));
    }

    private static Tensor Unary(UnaryOp op, Tensor x, float arg = 0f)
    {
        var be = BackendOf(x);
        var y = be.Empty(x.ShapeArray.ToArray());
        be.Unary(op, arg, x, y);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                be.UnaryBackward(op, arg, gy, x, y, x.GradOrZeros());
            }
        }, x);
        return y;
    }
}
