using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Serialization;
using SkiaSharp;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// Decodes image files exactly as ML.NET's <c>LoadImages</c> does: with ImageAnalytics' <see cref="MLImage"/>
/// (SkiaSharp; PNG, JPEG, GIF, BMP, WebP, ICO), by content rather than extension, without applying EXIF
/// orientation. The result keeps the colour channels (RGB; a grey file gives equal channels, alpha is dropped).
/// The image's size is read from its header first and refused above a pixel limit, so a small file that declares a
/// huge image (a decompression bomb) costs nothing.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The default limit on width × height: 64 Mpixel (256 MB decoded).</summary>
    public const long DefaultMaxPixels = 64L << 20;

    /// <summary>Decodes encoded image bytes of at most <paramref name="maxPixels"/> pixels; <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidDataException">Empty, not an image, over the pixel limit or corrupt; the message starts with <paramref name="source"/>.</exception>
    public static PixelImage Decode(byte[] data, string source, long maxPixels = DefaultMaxPixels)
    {
        if (data.Length == 0)
        {
            throw new InvalidDataException($"'{source}': empty file, not an image");
        }

        var (width, height) = Dimensions(data, source);
        if ((long)width * height > maxPixels)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{source}': a {width}×{height} image ({(long)width * height / 1e6:F1} Mpixel) is over the decoding limit of {maxPixels / 1e6:F1} Mpixel"));
        }

        MLImage image;
        try
        {
            image = MLImage.CreateFromStream(new MemoryStream(data, writable: false));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw NotAnImage(data, source, e);
        }

        using (image)
        {
            return FromMLImage(image);
        }
    }

    /// <summary>Reads (a regular file, at most 4 bytes per allowed pixel plus 16 MiB) and decodes an image file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not a regular file, too large, not an image or corrupt; the message names the file.</exception>
    public static PixelImage Load(string path, long maxPixels = DefaultMaxPixels)
        => Decode(BoundedFile.ReadAllBytes(path, 4 * maxPixels + (16 << 20), "image file"), path, maxPixels);

    /// <summary>Width and height from the header alone.</summary>
    private static (int Width, int Height) Dimensions(byte[] data, string source)
    {
        try
        {
            using var codec = SKCodec.Create(new MemoryStream(data, writable: false));
            return codec is null ? throw NotAnImage(data, source, null) : (codec.Info.Width, codec.Info.Height);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or InvalidDataException))
        {
            throw NotAnImage(data, source, e);
        }
    }

    private static InvalidDataException NotAnImage(byte[] data, string source, Exception? inner)
    {
        var head = Convert.ToHexString(data.AsSpan(0, Math.Min(8, data.Length)));
        return new InvalidDataException($"'{source}': not a readable image ({data.Length} bytes starting with {head}; SkiaSharp could not decode it)", inner);
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
