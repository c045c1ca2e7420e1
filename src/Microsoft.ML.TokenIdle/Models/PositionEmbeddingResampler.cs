using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// Resizes a learned position embedding [1, 1 + G·G, E] to another patch grid the way timm's
/// <c>resample_abs_pos_embed</c> does: the class position is kept, the grid part is resampled by
/// antialiased bicubic interpolation (PyTorch's <c>interpolate(..., 'bicubic', antialias=True)</c>,
/// cubic coefficient −0.5, half-pixel centres, weights normalised at the borders).
/// </summary>
public static class PositionEmbeddingResampler
{
    /// <summary>Resamples <paramref name="posEmbed"/> to a <paramref name="newGrid"/>² grid.</summary>
    /// <exception cref="ArgumentException">The embedding is not [1, 1 + G², E].</exception>
    public static Tensor Resample(Tensor posEmbed, int newGrid)
    {
        var n = posEmbed.Rank == 3 ? posEmbed.Size(1) - 1 : -1;
        var oldGrid = (int)Math.Round(Math.Sqrt(Math.Max(n, 0)));
        if (posEmbed.Rank != 3 || posEmbed.Size(0) != 1 || oldGrid * oldGrid != n || n < 1)
        {
            throw new ArgumentException($"pos_embed {ShapeUtil.Format(posEmbed.Shape)} is not [1, 1 + G*G, E]");
        }

        var e = posEmbed.Size(2);
        var src = posEmbed.Data;
        var result = Tensor.Zeros(1, 1 + newGrid * newGrid, e);
        var dst = result.Data;
        src[..e].CopyTo(dst);
        var (wIdx, wVal) = Weights(oldGrid, newGrid);
        var taps = wVal.Length / newGrid;

        // Separable: rows first into [newGrid, oldGrid, E], then columns.
        var tmp = new float[newGrid * oldGrid * e];
        for (var y = 0; y < newGrid; y++)
        {
            for (var t = 0; t < taps; t++)
            {
                var w = wVal[y * taps + t];
                if (w == 0f)
                {
                    continue;
                }

                var sy = wIdx[y * taps + t];
                for (var x = 0; x < oldGrid; x++)
                {
                    var from = src.Slice(e * (1 + sy * oldGrid + x), e);
                    var to = tmp.AsSpan((y * oldGrid + x) * e, e);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(from, w, to, to);
                }
            }
        }

        for (var y = 0; y < newGrid; y++)
        {
            for (var x = 0; x < newGrid; x++)
            {
                var to = dst.Slice(e * (1 + y * newGrid + x), e);
                for (var t = 0; t < taps; t++)
                {
                    var w = wVal[x * taps + t];
                    if (w != 0f)
                    {
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(tmp.AsSpan((y * oldGrid + wIdx[x * taps + t]) * e, e), w, to, to);
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Per output index, the source indices and normalised weights of the antialiased cubic filter.</summary>
    private static (int[] Index, float[] Weight) Weights(int inSize, int outSize)
    {
        var scale = (double)inSize / outSize;
        var support = 2.0 * Math.Max(scale, 1.0);
        var taps = (int)Math.Ceiling(support) * 2 + 1;
        var index = new int[outSize * taps];
        var weight = new float[outSize * taps];
        var invScale = 1.0 / Math.Max(scale, 1.0);
        for (var i = 0; i < outSize; i++)
        {
            var center = scale * (i + 0.5);
            var xmin = Math.Max((int)(center - support + 0.5), 0);
            var xmax = Math.Min((int)(center + support + 0.5), inSize);
            var ws = new double[taps];
            var total = 0.0;
            for (var j = xmin; j < xmax && j - xmin < taps; j++)
            {
                var w = Cubic((j - center + 0.5) * invScale);
                ws[j - xmin] = w;
                total += w;
            }

            for (var j = xmin; j < xmax && j - xmin < taps; j++)
            {
                index[i * taps + j - xmin] = j;
                weight[i * taps + j - xmin] = (float)(total == 0 ? 0 : ws[j - xmin] / total);
            }
        }

        return (index, weight);
    }

    private static double Cubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        return x < 1 ? ((a + 2) * x - (a + 3)) * x * x + 1
            : x < 2 ? (((x - 5) * x + 8) * x - 4) * a
            : 0;
    }
}
