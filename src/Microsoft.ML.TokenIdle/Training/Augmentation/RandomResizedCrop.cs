using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Augmentation;

/// <summary>
/// Training augmentation per image: a random crop covering a fraction in [<see cref="MinScale"/>, 1]
/// of the image with aspect ratio in [3/4, 4/3] (log-uniform), resized back with bilinear
/// interpolation, then a horizontal flip with probability ½ when <see cref="HorizontalFlip"/>.
/// </summary>
public sealed class RandomResizedCrop
{
    /// <summary>Smallest crop area as a fraction of the image (1 turns cropping off).</summary>
    public double MinScale { get; init; } = 0.35;

    /// <summary>Flip images left-right half of the time (turn off where orientation carries the label).</summary>
    public bool HorizontalFlip { get; init; } = true;

    /// <summary>Augments a batch [B,C,H,W] into a new tensor.</summary>
    public Tensor Apply(Tensor images, Random random)
    {
        var (b, c, h, w) = (images.Size(0), images.Size(1), images.Size(2), images.Size(3));
        var output = Tensor.Zeros(b, c, h, w);
        for (var i = 0; i < b; i++)
        {
            var (top, left, ch, cw) = CropBox(h, w, random);
            var flip = HorizontalFlip && random.NextDouble() < 0.5;
            for (var k = 0; k < c; k++)
            {
                var src = images.Data.Slice((i * c + k) * h * w, h * w);
                var dst = output.Data.Slice((i * c + k) * h * w, h * w);
                for (var y = 0; y < h; y++)
                {
                    var sy = Math.Clamp(top + (y + 0.5) * ch / h - 0.5, 0, h - 1);
                    var (y0, fy) = ((int)sy, (float)(sy - (int)sy));
                    var y1 = Math.Min(y0 + 1, h - 1);
                    for (var x = 0; x < w; x++)
                    {
                        var sx = Math.Clamp(left + (x + 0.5) * cw / w - 0.5, 0, w - 1);
                        var (x0, fx) = ((int)sx, (float)(sx - (int)sx));
                        var x1 = Math.Min(x0 + 1, w - 1);
                        var value = (1 - fy) * ((1 - fx) * src[y0 * w + x0] + fx * src[y0 * w + x1]) + fy * ((1 - fx) * src[y1 * w + x0] + fx * src[y1 * w + x1]);
                        dst[y * w + (flip ? w - 1 - x : x)] = value;
                    }
                }
            }
        }

        return output;
    }

    private (double Top, double Left, double Height, double Width) CropBox(int h, int w, Random random)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var area = h * w * (MinScale + (1 - MinScale) * random.NextDouble());
            var ratio = Math.Exp(Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * random.NextDouble());
            var (cw, ch) = (Math.Sqrt(area * ratio), Math.Sqrt(area / ratio));
            if (cw <= w && ch <= h)
            {
                return ((h - ch) * random.NextDouble(), (w - cw) * random.NextDouble(), ch, cw);
            }
        }

        return (0, 0, h, w);
    }
}
