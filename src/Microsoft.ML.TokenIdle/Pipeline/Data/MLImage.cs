using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// A decoded image in a pipeline column (ML.NET's <c>MLImage</c>): 8-bit grey, grey + alpha, RGB or
/// RGBA pixels, rows top to bottom, upright (EXIF orientation applied).
/// </summary>
public sealed class MLImage : IDisposable
{
    private PixelImage? _image;

    internal MLImage(PixelImage image) => _image = image;

    /// <summary>Width in pixels.</summary>
    public int Width => Image.Width;

    /// <summary>Height in pixels.</summary>
    public int Height => Image.Height;

    /// <summary>Samples per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.</summary>
    public int Channels => Image.Channels;

    /// <summary>The pixels, row-major and interleaved.</summary>
    public ReadOnlySpan<byte> Pixels => Image.Pixels;

    /// <summary>Free text attached by the code that made the image (the file path for loaded images).</summary>
    public string? Tag { get; set; }

    internal PixelImage Image => _image ?? throw new ObjectDisposedException(nameof(MLImage));

    /// <summary>Decodes a PNG or JPEG file.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable image; the message names it.</exception>
    public static MLImage CreateFromFile(string imagePath) => new(ImageDecoder.Load(imagePath)) { Tag = imagePath };

    /// <summary>Decodes a PNG or JPEG stream.</summary>
    public static MLImage CreateFromStream(Stream imageStream)
    {
        using var buffer = new MemoryStream();
        imageStream.CopyTo(buffer);
        return new(ImageDecoder.Decode(buffer.ToArray(), "stream"));
    }

    /// <summary>An image from interleaved 8-bit pixels (1–4 channels), copied.</summary>
    public static MLImage CreateFromPixels(int width, int height, int channels, ReadOnlySpan<byte> pixels) => new(new PixelImage(width, height, channels, pixels.ToArray()));

    /// <summary>Writes the image as PNG (atomically).</summary>
    public void Save(string imagePath) => PngCodec.Save(Image, imagePath);

    /// <inheritdoc/>
    public void Dispose() => _image = null;
}
