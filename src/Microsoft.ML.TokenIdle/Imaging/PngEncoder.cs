using Microsoft.ML.TokenIdle.Serialization;
using SkiaSharp;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>Writes images as PNG with SkiaSharp (lossless; grey images are written as RGB).</summary>
public static class PngEncoder
{
    /// <summary>The PNG bytes of <paramref name="image"/>.</summary>
    public static byte[] Encode(PixelImage image)
    {
        using var bitmap = SkiaConversion.ToBitmap(image);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("SkiaSharp could not encode the image as PNG");
        return data.ToArray();
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> atomically (a failure leaves no partial file).</summary>
    public static void Save(PixelImage image, string path)
    {
        var bytes = Encode(image);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
