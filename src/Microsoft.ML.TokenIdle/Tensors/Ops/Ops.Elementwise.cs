namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>a + b, with b broadcast to a's shape (NumPy rules).</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);

    /// <summary>a · b element-wise, with b broadcast to a's shape (NumPy rules).</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Multiply, a, b);

    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        CheckBroadcast(a.Shape, b.Shape, op.ToString().ToLowerInvariant());
        SameDevice(a, b, op.ToString());
        var be = BackendOf(a);
        var y = be.Empty(a.ShapeArray.ToArray());
        be.BroadcastBinary(op, a, b, y);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is not { } gy)
            {
                return;
            }

            // The gradient reaching one operand: gy for a sum, gy·(the other operand) for a product.
            Tensor Upstream(Tensor other)
            {
                if (op == BinaryOp.Add)
                {
                    return gy;
                }

                var t = be.Empty(a.ShapeArray.ToArray());
                be.BroadcastBinary(BinaryOp.Multiply, gy, other, t);
                return t;
            }

            if (a.RequiresGrad)
            {
                AccumulateGrad(a, Upstream(b));
            }

            if (b.RequiresGrad && b.Length == a.Length)
            {
                AccumulateGrad(b, Upstream(a));
            }
            else if (b.RequiresGrad)
            {
                be.BroadcastReduceAccumulate(gy, op == BinaryOp.Add ? null : a, b.GradOrZeros());
            }
        }, a, b);
        return y;
    }

    private static void CheckBroadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        var ok = b.Length <= a.Length;
        for (var i = 1; ok && i <= b.Length; i++)
        {
            ok = b[^i] == a[^i] || b[^i] == 1;
        }

        if (!ok)
        {
            throw new ArgumentException($"{op}: shape {ShapeUtil.Format(b)} does not broadcast to {ShapeUtil.Format(a)}");
        }
    }

    /// <summary>alpha · x.</summary>
    public static Tensor Scale(Tensor x, float alpha)
    {
        var be = BackendOf(x);
        var y = be.Empty(x.ShapeArray.ToArray());
        be.Scale(alpha, x, y);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                AccumulateGrad(x, gy, alpha);
            }
        }, x);
        return y;
    }
}
