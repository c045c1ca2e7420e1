using SkiaSharp;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>Moves pixels between <see cref="PixelImage"/> and SkiaSharp bitmaps (opaque RGBA, 8 bits per sample).</summary>
internal static class SkiaConversion
{
    /// <summary>An opaque RGBA bitmap of the image (grey replicated, alpha dropped).</summary>
    public static unsafe SKBitmap ToBitmap(PixelImage image)
    {
        var rgb = image.ToColorChannels(3).Pixels;
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var target = new Span<byte>((void*)bitmap.GetPixels(), bitmap.ByteCount);
        for (var i = 0; i < image.Width * image.Height; i++)
        {
            rgb.AsSpan(3 * i, 3).CopyTo(target.Slice(4 * i, 3));
            target[4 * i + 3] = 255;
        }

        return bitmap;
    }

    /// <summary>The RGB samples of an RGBA bitmap (alpha dropped).</summary>
    public static unsafe PixelImage ToPixelImage(SKBitmap bitmap)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888)
        {
            throw new ArgumentException($"expected an Rgba8888 bitmap, got {bitmap.ColorType}");
        }

        var source = new ReadOnlySpan<byte>((void*)bitmap.GetPixels(), bitmap.ByteCount);
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (var i = 0; i < bitmap.Width * bitmap.Height; i++)
        {
            source.Slice(4 * i, 3).CopyTo(rgb.AsSpan(3 * i, 3));
        }

        return new PixelImage(bitmap.Width, bitmap.Height, 3, rgb);
    }
}
