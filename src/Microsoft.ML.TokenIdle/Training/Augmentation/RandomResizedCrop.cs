using static TorchSharp.torch;

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

    /// <summary>
    /// Augments a batch [B,C,H,W] into a new tensor: output pixel (y, x) samples the crop at
    /// (top + (y + ½)·h_c/H − ½, left + (x + ½)·w_c/W − ½), bilinearly, clamped to the image (one <c>grid_sample</c>).
    /// </summary>
    public Tensor Apply(Tensor images, Random random)
    {
        var (b, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        var boxes = new float[b * 4];
        for (var i = 0; i < b; i++)
        {
            var (top, left, ch, cw) = CropBox((int)h, (int)w, random);
            var flip = HorizontalFlip && random.NextDouble() < 0.5;
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = ((float)top, (float)left, (float)ch, (float)cw * (flip ? -1 : 1));
        }

        // grid_sample (align_corners = false) reads pixel p at u = (2p + 1)/size − 1; a flip mirrors the output column.
        var box = tensor(boxes, new long[] { b, 4 }, device: images.device);
        var (boxTop, boxLeft, boxHeight, boxWidth) = (box[.., 0].view(b, 1, 1), box[.., 1].view(b, 1, 1), box[.., 2].view(b, 1, 1), box[.., 3].view(b, 1, 1));
        var ys = (arange(h, dtype: float32, device: images.device) + 0.5f).view(1, h, 1);
        var xs = (arange(w, dtype: float32, device: images.device) + 0.5f).view(1, 1, w);
        var flipped = boxWidth.lt(0);
        var columns = where(flipped, w - xs, xs);
        var u = (2 * boxLeft + 2 * columns * boxWidth.abs() / w) / w - 1;
        var v = (2 * boxTop + 2 * ys * boxHeight / h) / h - 1;
        var grid = stack(new[] { u.expand(b, h, w), v.expand(b, h, w) }, -1);
        return nn.functional.grid_sample(images, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Border, align_corners: false);
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
