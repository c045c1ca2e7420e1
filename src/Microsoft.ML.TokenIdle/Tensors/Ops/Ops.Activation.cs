namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>GELU in the exact erf form, u·Φ(u), as PyTorch's default.</summary>
    public static Tensor Gelu(Tensor x)
    {
        var be = BackendOf(x);
        var y = be.Empty(x.ShapeArray.ToArray());
        be.GeluForward(x, y);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                be.GeluBackward(gy, x, x.GradOrZeros());
            }
        }, x);
        return y;
    }

    /// <summary>Softmax over the last dimension.</summary>
    public static Tensor Softmax(Tensor x) => SoftmaxCore(x, log: false);

    /// <summary>Log-softmax over the last dimension.</summary>
    public static Tensor LogSoftmax(Tensor x) => SoftmaxCore(x, log: true);

    private static Tensor SoftmaxCore(Tensor x, bool log)
    {
        if (x.Rank == 0 || x.Size(-1) == 0)
        {
            throw ShapeError(log ? "log_softmax" : "softmax", "needs a non-empty last dimension", x.Shape);
        }

        var be = BackendOf(x);
        var y = be.Empty(x.ShapeArray.ToArray());
        be.SoftmaxForward(x, y, log);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                be.SoftmaxBackward(gy, y, log, x.GradOrZeros());
            }
        }, x);
        return y;
    }
}
