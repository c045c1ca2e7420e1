using Microsoft.ML.Data;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// Decodes image files exactly as ML.NET's <c>LoadImages</c> does: with ImageAnalytics' <see cref="MLImage"/>
/// (SkiaSharp; PNG, JPEG, GIF, BMP, WebP, ICO), by content rather than extension, without applying EXIF
/// orientation. The result keeps the colour channels (RGB; a grey file gives equal channels, alpha is dropped).
/// </summary>
public static class ImageDecoder
{
    /// <summary>Decodes encoded image bytes; <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidDataException">Empty, not an image or corrupt; the message starts with <paramref name="source"/>.</exception>
    public static PixelImage Decode(byte[] data, string source)
    {
        if (data.Length == 0)
        {
            throw new InvalidDataException($"'{source}': empty file, not an image");
        }

        MLImage image;
        try
        {
            image = MLImage.CreateFromStream(new MemoryStream(data, writable: false));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            var head = Convert.ToHexString(data.AsSpan(0, Math.Min(8, data.Length)));
            throw new InvalidDataException($"'{source}': not a readable image ({data.Length} bytes starting with {head}; SkiaSharp could not decode it)", e);
        }

        using (image)
        {
            return FromMLImage(image);
        }
    }

    /// <summary>Reads and decodes an image file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not an image or corrupt; the message names the file.</exception>
    public static PixelImage Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"image file '{path}' not found", path);
        }

        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>The RGB samples of a decoded <see cref="MLImage"/> (32 bits per pixel, BGRA or RGBA; alpha dropped).</summary>
    public static PixelImage FromMLImage(MLImage image)
    {
        var (width, height) = (image.Width, image.Height);
        var pixels = image.Pixels;
        var (red, blue) = image.PixelFormat == MLPixelFormat.Bgra32 ? (2, 0) : (0, 2);
        var rgb = new byte[width * height * 3];
        for (var i = 0; i < width * height; i++)
        {
            rgb[3 * i] = pixels[4 * i + red];
            rgb[3 * i + 1] = pixels[4 * i + 1];
            rgb[3 * i + 2] = pixels[4 * i + blue];
        }

        return new PixelImage(width, height, 3, rgb);
    }
}
