namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// Resizes 8-bit images with a separable, antialiased kernel (the kernel is widened by the shrink
/// factor, as Pillow and torchvision's antialiased resize do), after fitting the aspect ratio by
/// padding, cropping or stretching.
/// </summary>
public static class ImageResizer
{
    /// <summary>The image at <paramref name="width"/> × <paramref name="height"/>.</summary>
    public static PixelImage Resize(PixelImage image, int width, int height, ResizeMode mode = ResizeMode.IsoCrop, ResizeAnchor anchor = ResizeAnchor.Center, ResamplingFilter filter = ResamplingFilter.Bilinear)
    {
        if (width < 1 || height < 1)
        {
            throw new ArgumentException($"resize target must be positive, got {width}x{height}");
        }

        var (w, h) = (image.Width, image.Height);
        switch (mode)
        {
            case ResizeMode.Fill:
                return Resample(image, 0, 0, w, h, width, height, filter);
            case ResizeMode.IsoCrop:
            {
                // The source box with the target's aspect ratio, placed by the anchor.
                var scale = Math.Min((double)w / width, (double)h / height);
                var (boxW, boxH) = (width * scale, height * scale);
                var x0 = Place(anchor, ResizeAnchor.Left, ResizeAnchor.Right, w - boxW);
                var y0 = Place(anchor, ResizeAnchor.Top, ResizeAnchor.Bottom, h - boxH);
                return Resample(image, x0, y0, boxW, boxH, width, height, filter);
            }

            default:
            {
                var scale = Math.Min((double)width / w, (double)height / h);
                var (innerW, innerH) = (Math.Clamp((int)Math.Round(w * scale), 1, width), Math.Clamp((int)Math.Round(h * scale), 1, height));
                var inner = Resample(image, 0, 0, w, h, innerW, innerH, filter);
                var left = (int)Place(anchor, ResizeAnchor.Left, ResizeAnchor.Right, width - innerW);
                var top = (int)Place(anchor, ResizeAnchor.Top, ResizeAnchor.Bottom, height - innerH);
                var c = image.Channels;
                var canvas = new byte[width * height * c];
                for (var y = 0; y < innerH; y++)
                {
                    inner.Pixels.AsSpan(y * innerW * c, innerW * c).CopyTo(canvas.AsSpan(((top + y) * width + left) * c));
                }

                return new PixelImage(width, height, c, canvas);
            }
        }
    }

    /// <summary>
    /// The source box (<paramref name="left"/>, <paramref name="top"/>, <paramref name="width"/> × <paramref name="height"/>,
    /// in source pixels, fractions allowed) resampled once to <paramref name="outWidth"/> × <paramref name="outHeight"/>:
    /// torchvision's <c>resized_crop</c>, so a small crop of a large image keeps the source's detail.
    /// </summary>
    public static PixelImage ResizedCrop(PixelImage image, double left, double top, double width, double height, int outWidth, int outHeight, ResamplingFilter filter = ResamplingFilter.Bilinear)
    {
        if (outWidth < 1 || outHeight < 1 || !(width > 0 && height > 0) || left < 0 || top < 0 || left + width > image.Width + 1e-9 || top + height > image.Height + 1e-9)
        {
            throw new ArgumentException($"resized crop: box ({left}, {top}, {width}x{height}) must lie in the {image.Width}x{image.Height} image and the target {outWidth}x{outHeight} be positive");
        }

        return Resample(image, left, top, width, height, outWidth, outHeight, filter);
    }

    // Offset of a box along one axis: 0 at the low anchor, all the slack at the high one, half otherwise.
    private static double Place(ResizeAnchor anchor, ResizeAnchor low, ResizeAnchor high, double slack)
        => anchor == low ? 0 : anchor == high ? slack : Math.Floor(slack / 2);

    private static PixelImage Resample(PixelImage image, double x0, double y0, double boxW, double boxH, int outW, int outH, ResamplingFilter filter)
    {
        var c = image.Channels;
        var columns = Weights(x0, boxW, image.Width, outW, filter);
        var rows = Weights(y0, boxH, image.Height, outH, filter);

        // Horizontal pass into floats (only the source rows some output row reads), then vertical.
        var horizontal = new float[image.Height * outW * c];
        Parallel.For(0, image.Height, y =>
        {
            var source = image.Pixels.AsSpan(y * image.Width * c, image.Width * c);
            var target = horizontal.AsSpan(y * outW * c, outW * c);
            for (var x = 0; x < outW; x++)
            {
                var (start, weights) = columns[x];
                for (var ch = 0; ch < c; ch++)
                {
                    var sum = 0f;
                    for (var k = 0; k < weights.Length; k++)
                    {
                        sum += weights[k] * source[(start + k) * c + ch];
                    }

                    target[x * c + ch] = sum;
                }
            }
        });
        var pixels = new byte[outW * outH * c];
        Parallel.For(0, outH, y =>
        {
            var (start, weights) = rows[y];
            var target = pixels.AsSpan(y * outW * c, outW * c);
            for (var i = 0; i < target.Length; i++)
            {
                var sum = 0f;
                for (var k = 0; k < weights.Length; k++)
                {
                    sum += weights[k] * horizontal[(start + k) * outW * c + i];
                }

                target[i] = (byte)Math.Clamp(MathF.Round(sum), 0f, 255f);
            }
        });
        return new PixelImage(outW, outH, c, pixels);
    }

    // For each output coordinate: the first source index and the normalised kernel weights over the box [start, start + box).
    private static (int Start, float[] Weights)[] Weights(double start, double box, int size, int count, ResamplingFilter filter)
    {
        var scale = box / count;
        var stretch = Math.Max(1.0, scale);
        var support = (filter == ResamplingFilter.Bicubic ? 2.0 : 1.0) * stretch;
        var result = new (int, float[])[count];
        for (var i = 0; i < count; i++)
        {
            var center = start + (i + 0.5) * scale;
            var first = Math.Max(0, (int)Math.Floor(center - support));
            var last = Math.Min(size - 1, (int)Math.Ceiling(center + support));
            var weights = new float[last - first + 1];
            var total = 0.0;
            for (var j = first; j <= last; j++)
            {
                var t = Math.Abs(j + 0.5 - center) / stretch;
                var value = filter == ResamplingFilter.Bicubic ? Cubic(t) : Math.Max(0, 1 - t);
                weights[j - first] = (float)value;
                total += value;
            }

            for (var k = 0; k < weights.Length; k++)
            {
                weights[k] = (float)(weights[k] / total);
            }

            result[i] = (first, weights);
        }

        return result;
    }

    private static double Cubic(double t)
    {
        const double a = -0.5;
        return t < 1 ? ((a + 2) * t - (a + 3)) * t * t + 1 : t < 2 ? (((t - 5) * t + 8) * t - 4) * a : 0;
    }
}
