using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Permute(Tensor x, int[] perm, Tensor y, bool accumulate)
    {
        var xs = x.ShapeArray;
        var rank = xs.Length;
        var xStrides = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; s *= xs[i], i--)
        {
            xStrides[i] = s;
        }

        var ys = y.ShapeArray;
        var inner = ys[^1];
        var innerStride = xStrides[perm[^1]];
        ParallelRanges(y.Length / inner, inner, (r0, r1) =>
        {
            var src = x.Data;
            var dst = y.Data;
            for (var r = r0; r < r1; r++)
            {
                var offset = 0;
                for (int i = rank - 2, rest = r; i >= 0; i--)
                {
                    offset += rest % ys[i] * xStrides[perm[i]];
                    rest /= ys[i];
                }

                var row = dst.Slice(r * inner, inner);
                for (var j = 0; j < inner; j++)
                {
                    var v = src[offset + j * innerStride];
                    row[j] = accumulate ? row[j] + v : v;
                }
            }
        });
    }

    /// <inheritdoc/>
    public void CopyAlongAxis(Tensor x, int outer, int srcLen, int srcStart, int inner, Tensor dst, int dstLen, int dstStart, int count, bool accumulate)
    {
        var block = count * inner;
        ParallelRanges(outer, block, (o0, o1) =>
        {
            var xs = x.Data;
            var ds = dst.Data;
            for (var o = o0; o < o1; o++)
            {
                var from = xs.Slice((o * srcLen + srcStart) * inner, block);
                var to = ds.Slice((o * dstLen + dstStart) * inner, block);
                if (accumulate)
                {
                    TensorPrimitives.Add(to, from, to);
                }
                else
                {
                    from.CopyTo(to);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void Gather(Tensor x, int outer, int len, int inner, int[] index, int k, Tensor y, IndexMode mode)
    {
        // Scatter-add may hit one row of x from several j: each outer index stays on one thread.
        ParallelRanges(outer, (long)k * inner, (o0, o1) =>
        {
            var xs = x.Data;
            var ys = y.Data;
            for (var o = o0; o < o1; o++)
            {
                for (var j = 0; j < k; j++)
                {
                    var src = index[o * k + j];
                    var xr = xs.Slice((o * len + src) * inner, inner);
                    var yr = ys.Slice((o * k + j) * inner, inner);
                    switch (mode)
                    {
                        case IndexMode.Gather:
                            xr.CopyTo(yr);
                            break;
                        case IndexMode.Scatter:
                            yr.CopyTo(xr);
                            break;
                        default:
                            TensorPrimitives.Add(xr, yr, xr);
                            break;
                    }
                }
            }
        });
    }

    /// <inheritdoc/>
    public void Patchify(Tensor images, int patch, Tensor patches, bool reverseAccumulate)
    {
        var (b, c, h, w) = (images.Size(0), images.Size(1), images.Size(2), images.Size(3));
        var (gh, gw) = (h / patch, w / patch);
        var rowLength = c * patch * patch;
        ParallelRanges(b * gh * gw, rowLength, (p0, p1) =>
        {
            var img = images.Data;
            var pat = patches.Data;
            for (var p = p0; p < p1; p++)
            {
                var (bi, cell) = (p / (gh * gw), p % (gh * gw));
                var (r, col) = (cell / gw, cell % gw);
                var dst = pat.Slice(p * rowLength, rowLength);
                for (var ch = 0; ch < c; ch++)
                {
                    for (var dy = 0; dy < patch; dy++)
                    {
                        var src = img.Slice(((bi * c + ch) * h + r * patch + dy) * w + col * patch, patch);
                        var seg = dst.Slice((ch * patch + dy) * patch, patch);
                        if (reverseAccumulate)
                        {
                            TensorPrimitives.Add(src, seg, src);
                        }
                        else
                        {
                            src.CopyTo(seg);
                        }
                    }
                }
            }
        });
    }

    /// <inheritdoc/>
    public void SumAlongAxis(Tensor x, int outer, int len, int inner, Tensor y, bool reverseAccumulate)
    {
        ParallelRanges(outer, (long)len * inner, (o0, o1) =>
        {
            var xs = x.Data;
            var ys = y.Data;
            for (var o = o0; o < o1; o++)
            {
                var yr = ys.Slice(o * inner, inner);
                if (!reverseAccumulate)
                {
                    yr.Clear();
                }

                for (var i = 0; i < len; i++)
                {
                    var xr = xs.Slice((o * len + i) * inner, inner);
                    if (reverseAccumulate)
                    {
                        TensorPrimitives.Add(xr, yr, xr);
                    }
                    else
                    {
                        TensorPrimitives.Add(yr, xr, yr);
                    }
                }
            }
        });
    }

    /// <inheritdoc/>
    public int[] TopKIndices(Tensor x, int k)
    {
        var n = x.Size(-1);
        var rows = x.Length / n;
        var result = new int[rows * k];
        ParallelRanges(rows, (long)n * 16, (r0, r1) =>
        {
            var order = new int[n];
            var keys = new float[n];
            for (var r = r0; r < r1; r++)
            {
                var row = x.Data.Slice(r * n, n);
                for (var j = 0; j < n; j++)
                {
                    order[j] = j;
                    keys[j] = row[j];
                }

                // Descending by value, ties by the lower index, NaN last: a total order, so the result is deterministic.
                Array.Sort(order, (i, j) =>
                {
                    float a = keys[i], b = keys[j];
                    if (float.IsNaN(a) || float.IsNaN(b))
                    {
                        return float.IsNaN(a) == float.IsNaN(b) ? i.CompareTo(j) : float.IsNaN(a) ? 1 : -1;
                    }

                    return a > b ? -1 : a < b ? 1 : i.CompareTo(j);
                });
                order.AsSpan(0, k).CopyTo(result.AsSpan(r * k, k));
            }
        });
        return result;
    }
}
