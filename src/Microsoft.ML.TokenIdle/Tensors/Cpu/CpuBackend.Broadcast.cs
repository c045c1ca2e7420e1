using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// b's strides inside a's index space: 0 along broadcast dimensions. The innermost dimension is
    /// either walked with b (stride 1) or reads one scalar of b (stride 0).
    /// </summary>
    private static int[] BroadcastStrides(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape)
    {
        var strides = new int[aShape.Length];
        var offset = aShape.Length - bShape.Length;
        var stride = 1;
        for (var i = aShape.Length - 1; i >= 0; i--)
        {
            var bi = i - offset;
            var bd = bi >= 0 ? bShape[bi] : 1;
            strides[i] = bd == 1 && aShape[i] != 1 ? 0 : stride;
            stride *= bd;
        }

        return strides;
    }

    /// <summary>Offset into b of the row (all but the last dimension) number <paramref name="row"/> of a.</summary>
    private static int BroadcastRowOffset(ReadOnlySpan<int> aShape, int[] strides, int row)
    {
        var offset = 0;
        for (var i = aShape.Length - 2; i >= 0; i--)
        {
            var d = aShape[i];
            offset += row % d * strides[i];
            row /= d;
        }

        return offset;
    }

    /// <inheritdoc/>
    public void BroadcastBinary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        if (a.Length == b.Length)
        {
            if (op == BinaryOp.Add)
            {
                TensorPrimitives.Add(a.Data, b.Data, y.Data);
            }
            else
            {
                TensorPrimitives.Multiply(a.Data, b.Data, y.Data);
            }

            return;
        }

        var shape = a.ShapeArray;
        var strides = BroadcastStrides(shape, b.Shape);
        var inner = shape.Length == 0 ? 1 : shape[^1];
        var innerStride = shape.Length == 0 ? 0 : strides[^1];
        var rows = a.Length / Math.Max(inner, 1);
        ParallelRanges(rows, inner, (r0, r1) =>
        {
            var av = a.Data;
            var bv = b.Data;
            var yv = y.Data;
            for (var r = r0; r < r1; r++)
            {
                var bo = BroadcastRowOffset(shape, strides, r);
                var ar = av.Slice(r * inner, inner);
                var yr = yv.Slice(r * inner, inner);
                if (innerStride == 0)
                {
                    if (op == BinaryOp.Add)
                    {
                        TensorPrimitives.Add(ar, bv[bo], yr);
                    }
                    else
                    {
                        TensorPrimitives.Multiply(ar, bv[bo], yr);
                    }
                }
                else if (op == BinaryOp.Add)
                {
                    TensorPrimitives.Add(ar, bv.Slice(bo, inner), yr);
                }
                else
                {
                    TensorPrimitives.Multiply(ar, bv.Slice(bo, inner), yr);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void BroadcastReduceAccumulate(Tensor dy, Tensor? factor, Tensor db)
    {
        var shape = dy.ShapeArray;
        var strides = BroadcastStrides(shape, db.Shape);
        var inner = shape.Length == 0 ? 1 : shape[^1];
        var innerStride = shape.Length == 0 ? 0 : strides[^1];
        var rows = dy.Length / Math.Max(inner, 1);
        var dv = dy.Data;
        var fv = factor is null ? default : factor.Data;
        var bv = db.Data;
        var scratch = factor is null ? null : new float[inner];
        for (var r = 0; r < rows; r++)
        {
            var bo = BroadcastRowOffset(shape, strides, r);
            ReadOnlySpan<float> row = dv.Slice(r * inner, inner);
            if (scratch is not null)
            {
                TensorPrimitives.Multiply(row, fv.Slice(r * inner, inner), scratch);
                row = scratch;
            }

            if (innerStride == 0)
            {
                bv[bo] += TensorPrimitives.Sum(row);
            }
            else
            {
                var target = bv.Slice(bo, inner);
                TensorPrimitives.Add(target, row, target);
            }
        }
    }
}
