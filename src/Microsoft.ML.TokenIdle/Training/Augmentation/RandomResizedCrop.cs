using Microsoft.ML.TokenIdle.Imaging;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Augmentation;

/// <summary>
/// timm's training transform: a random crop covering a fraction in [<see cref="MinScale"/>, 1] of the image with aspect
/// ratio in [3/4, 4/3] (log-uniform; timm's <c>RandomResizedCrop</c> parameters), resized once to the model's size,
/// then a horizontal flip with probability ½ when <see cref="HorizontalFlip"/>. The trainers crop the decoded source
/// image (<see cref="Apply(PixelImage, ImageInputFormat, Random)"/>), so a small crop of a large photo keeps its detail;
/// inputs that come already normalised at the model's size are cropped as a batch.
/// </summary>
public sealed class RandomResizedCrop
{
    private static readonly (double Low, double High) LogRatio = (Math.Log(3.0 / 4), Math.Log(4.0 / 3));

    /// <summary>Smallest crop area as a fraction of the image (1 turns cropping off); timm's finetuning default 0.08.</summary>
    public double MinScale { get; init; } = 0.08;

    /// <summary>Flip images left-right half of the time (turn off where orientation carries the label).</summary>
    public bool HorizontalFlip { get; init; } = true;

    /// <summary>Whether the transform changes anything.</summary>
    public bool Enabled => MinScale < 1 || HorizontalFlip;

    /// <summary>
    /// The model's planar input [C, S, S] of a decoded source image: the crop's box drawn on the source, resampled once to
    /// <paramref name="format"/>'s size with its filter (or, with cropping off, the image fitted as for evaluation), then
    /// flipped half of the time.
    /// </summary>
    public byte[] Apply(PixelImage source, ImageInputFormat format, Random random)
    {
        var image = source.ToColorChannels(format.Channels);
        PixelImage result;
        if (MinScale < 1)
        {
            var (top, left, height, width) = Box(image.Height, image.Width, random);
            result = ImageResizer.ResizedCrop(image, left, top, width, height, format.Size, format.Size, format.Filter);
        }
        else
        {
            result = format.Fit(image);
        }

        return (HorizontalFlip && random.NextDouble() < 0.5 ? result.Mirrored() : result).ToPlanar();
    }

    /// <summary>
    /// Augments a batch [B,C,H,W] of inputs already at the model's size (a normalised vector column) into a new tensor:
    /// each image's box resampled bilinearly (one <c>grid_sample</c>), flipped half of the time.
    /// </summary>
    public Tensor Apply(Tensor images, Random random)
    {
        var (b, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        var boxes = new float[b * 4];
        for (var i = 0; i < b; i++)
        {
            var (top, left, ch, cw) = MinScale < 1 ? Box((int)h, (int)w, random) : (0, 0, (int)h, (int)w);
            var flip = HorizontalFlip && random.NextDouble() < 0.5;
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (top, left, ch, cw * (flip ? -1 : 1));
        }

        // grid_sample (align_corners = false) reads pixel p at u = (2p + 1)/size − 1; a flip mirrors the output column.
        var box = tensor(boxes, new long[] { b, 4 }, device: CPU).to(images.device);
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

    /// <summary>
    /// timm's crop box of an image <paramref name="height"/> × <paramref name="width"/>: up to ten draws of an area in
    /// [<see cref="MinScale"/>, 1] and a log-uniform ratio in [3/4, 4/3] until the box fits, placed uniformly; else the
    /// centred box of the closest allowed ratio.
    /// </summary>
    internal (int Top, int Left, int Height, int Width) Box(int height, int width, Random random)
    {
        var area = (double)height * width;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * (MinScale + (1 - MinScale) * random.NextDouble());
            var ratio = Math.Exp(LogRatio.Low + (LogRatio.High - LogRatio.Low) * random.NextDouble());
            var (w, h) = ((int)Math.Round(Math.Sqrt(target * ratio)), (int)Math.Round(Math.Sqrt(target / ratio)));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                return (random.Next(height - h + 1), random.Next(width - w + 1), h, w);
            }
        }

        var inRatio = (double)width / height;
        var (cw, chh) = inRatio < 3.0 / 4 ? (width, (int)Math.Round(width / (3.0 / 4)))
            : inRatio > 4.0 / 3 ? ((int)Math.Round(height * (4.0 / 3)), height)
            : (width, height);
        return ((height - chh) / 2, (width - cw) / 2, chh, cw);
    }
}
