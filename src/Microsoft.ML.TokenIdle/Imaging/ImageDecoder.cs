namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>Decodes PNG and JPEG files by their signature (not their extension), JPEGs turned upright by their EXIF orientation.</summary>
public static class ImageDecoder
{
    /// <summary>Decodes encoded image bytes; <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidDataException">Unsupported or corrupt; the message starts with <paramref name="source"/>.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> data, string source)
    {
        try
        {
            if (PngCodec.IsPng(data))
            {
                return PngCodec.Decode(data);
            }

            if (JpegCodec.IsJpeg(data))
            {
                return ExifOrientation.Apply(JpegCodec.Decode(data), ExifOrientation.Read(data));
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{source}': {e.Message}", e);
        }

        var head = Convert.ToHexString(data[..Math.Min(8, data.Length)]);
        throw new InvalidDataException(data.Length == 0
            ? $"'{source}': empty file, not an image"
            : $"'{source}': not a PNG or JPEG image (it starts with bytes {head})");
    }

    /// <summary>Reads and decodes an image file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Unsupported or corrupt; the message names the file.</exception>
    public static PixelImage Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"image file '{path}' not found", path);
        }

        return Decode(File.ReadAllBytes(path), path);
    }
}
