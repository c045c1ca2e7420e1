namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>y = x·Wᵀ + b for x [..., in], W [out, in], b [out] (batched over the leading dimensions).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2 || x.Rank < 1 || x.Size(-1) != weight.Size(1))
        {
            throw new ArgumentException($"linear: input {ShapeUtil.Format(x.Shape)} does not match weight {ShapeUtil.Format(weight.Shape)} (need input [..., {(weight.Rank == 2 ? weight.Size(1) : -1)}])");
        }

        if (bias is not null && (bias.Rank != 1 || bias.Length != weight.Size(0)))
        {
            throw new ArgumentException($"linear: bias {ShapeUtil.Format(bias.Shape)} does not match weight {ShapeUtil.Format(weight.Shape)}");
        }

        SameDevice(x, weight, "linear");
        var be = BackendOf(x);
        var (outF, inF) = (weight.Size(0), weight.Size(1));
        var rows = x.Length / inF;
        var shape = ShapeUtil.With(x.Shape, x.Rank - 1, outF);
        var y = be.Empty(shape);
        be.Gemm(false, true, rows, outF, inF, 1f, x, 0, inF, 0, weight, 0, inF, 0, 0f, y, 0, outF, 0, 1);
        if (bias is not null)
        {
            be.AddRowBias(y, bias);
        }

        GradientTape.Record(y, () =>
        {
            if (y.Grad is not { } gy)
            {
                return;
            }

            if (x.RequiresGrad)
            {
                be.Gemm(false, false, rows, inF, outF, 1f, gy, 0, outF, 0, weight, 0, inF, 0, 1f, x.GradOrZeros(), 0, inF, 0, 1);
            }

            if (weight.RequiresGrad)
            {
                be.Gemm(true, false, outF, inF, rows, 1f, gy, 0, outF, 0, x, 0, inF, 0, 1f, weight.GradOrZeros(), 0, inF, 0, 1);
            }

            if (bias is { RequiresGrad: true })
            {
                be.ColumnSumAccumulate(gy, bias.GradOrZeros());
            }
        }, x, weight, bias);
        return y;
    }
}
