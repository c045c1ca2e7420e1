using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Tests.Fuzzing;

namespace Microsoft.ML.TokenIdle.Tests.Imaging;

/// <summary>Decoding through ImageAnalytics' MLImage (as ML.NET's LoadImages does) against Pillow's pixels, files by eng/make-imaging-test-data.py.</summary>
public class ImageDecoderTests
{
    internal static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "Imaging", "Data", name);

    /// <summary>Pillow's decode of <paramref name="name"/>, as stored beside it (1 to 4 channels).</summary>
    internal static PixelImage Expected(string name)
    {
        var bytes = File.ReadAllBytes(DataPath(name + ".raw"));
        var (w, h, c) = (BitConverter.ToInt32(bytes, 0), BitConverter.ToInt32(bytes, 4), BitConverter.ToInt32(bytes, 8));
        return new PixelImage(w, h, c, bytes[12..]);
    }

    [Theory]
    [InlineData("rgb.png", 0)]
    [InlineData("grey.png", 0)]
    [InlineData("bilevel.png", 0)]
    [InlineData("interlaced.png", 0)]
    [InlineData("grey16.png", 1)]
    [InlineData("photo.jpg", 1)]
    [InlineData("grey.jpg", 1)]
    public void OpaqueImagesDecodeToPillowsColours(string name, int tolerance)
    {
        // Grey files come back as equal RGB channels; 16-bit samples are rounded to 8 bits and JPEG's IDCT or
        // upsampling may differ by one level between two libjpeg-turbo builds.
        var expected = Expected(name).ToColorChannels(3);
        var image = ImageDecoder.Load(DataPath(name));
        Assert.Equal((expected.Width, expected.Height, 3), (image.Width, image.Height, image.Channels));
        var worst = expected.Pixels.Zip(image.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= tolerance, $"{name}: largest difference {worst}");
    }

    [Theory]
    [InlineData("rgba.png")]
    [InlineData("grey_alpha.png")]
    [InlineData("palette.png")]
    public void TranslucentImagesKeepSkiasPremultipliedColours(string name)
    {
        // SkiaSharp decodes to premultiplied alpha and MLImage keeps it: colour = round(colour · alpha / 255).
        var pillow = Expected(name);
        var rgba = pillow.Channels == 2
            ? new PixelImage(pillow.Width, pillow.Height, 4, Enumerable.Range(0, pillow.Width * pillow.Height).SelectMany(i => new[] { pillow.Pixels[2 * i], pillow.Pixels[2 * i], pillow.Pixels[2 * i], pillow.Pixels[2 * i + 1] }).ToArray())
            : pillow;
        var image = ImageDecoder.Load(DataPath(name));
        for (var i = 0; i < image.Width * image.Height; i++)
        {
            var alpha = rgba.Pixels[4 * i + 3];
            for (var c = 0; c < 3; c++)
            {
                var premultiplied = Math.Round(rgba.Pixels[4 * i + c] * alpha / 255.0);
                Assert.InRange(image.Pixels[3 * i + c], premultiplied - 1, premultiplied + 1);
            }
        }
    }

    [Fact]
    public void UnreadableFilesAreRefusedWithTheirName()
    {
        var dir = Directory.CreateTempSubdirectory("corrupt").FullName;
        try
        {
            var cases = new (string Name, byte[] Bytes, string Reason)[]
            {
                ("text.png", "hello, I am not an image"u8.ToArray(), "not a readable image (24 bytes starting with 68656C6C6F2C2049"),
                ("empty.jpg", Array.Empty<byte>(), "is empty or not a regular file"),
            };
            foreach (var (name, bytes, reason) in cases)
            {
                var path = Path.Combine(dir, name);
                File.WriteAllBytes(path, bytes);
                var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Load(path));
                Assert.Contains(path, e.Message);
                Assert.Contains(reason, e.Message);
            }

            var missing = Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(Path.Combine(dir, "missing.png")));
            Assert.Contains("missing.png", missing.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ImagesDeclaringTooManyPixelsAreRefusedFromTheirHeaderCheaply()
    {
        // A 16384² 16-bit PNG (2 GB decoded) and a JPEG declaring 16384²: refused before decoding.
        var png = HostileFiles.PngDeclaring(16384, 16384);
        var jpeg = HostileFiles.JpegDeclaring(File.ReadAllBytes(DataPath("photo.jpg")), 16384, 16384);
        foreach (var (name, bytes) in new[] { ("bomb.png", png), ("bomb.jpg", jpeg) })
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, name));
            Assert.Equal($"'{name}': a 16384×16384 image (268.4 Mpixel) is over the decoding limit of 67.1 Mpixel", e.Message);
            Assert.InRange(watch.Elapsed.TotalSeconds, 0, 1);
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 4L << 20);
        }

        // The limit is a parameter: a 64×64 image passes the default and fails a 1000-pixel limit.
        var small = PngEncoder.Encode(new PixelImage(64, 64, 1, new byte[64 * 64]));
        Assert.Equal(64, ImageDecoder.Decode(small, "small.png").Width);
        Assert.Contains("over the decoding limit of 0.0 Mpixel", Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(small, "small.png", maxPixels: 1000)).Message);
    }

    [Fact]
    public void MutantsOfPngAndJpegFilesDecodeOrFailWithInvalidDataExceptionInBoundedTimeAndMemory()
    {
        // A 1-Mpixel limit bounds what any mutant can allocate: 3 bytes per pixel plus the input's copies.
        const long maxPixels = 1 << 20;
        foreach (var name in new[] { "rgb.png", "photo.jpg" })
        {
            var original = File.ReadAllBytes(DataPath(name));
            var counts = FuzzRun.Run($"image-{Path.GetExtension(name)[1..]}", original, bytes => ImageDecoder.Decode(bytes, "mutant", maxPixels),
                new[] { typeof(InvalidDataException) }, TimeSpan.FromSeconds(2), 3 * maxPixels + 16 * original.Length + (1 << 20));
            Assert.True(counts.GetValueOrDefault(nameof(InvalidDataException)) > 0, string.Join(", ", counts));
        }
    }

    [Fact]
    public void ColourConversionUsesLumaAndReplicatesGrey()
    {
        var rgb = new PixelImage(2, 1, 4, new byte[] { 255, 0, 0, 9, 10, 20, 30, 9 });
        Assert.Equal(new byte[] { 76, 18 }, rgb.ToColorChannels(1).Pixels);
        Assert.Equal(new byte[] { 255, 0, 0, 10, 20, 30 }, rgb.ToColorChannels(3).Pixels);
        Assert.Equal(new byte[] { 7, 7, 7 }, new PixelImage(1, 1, 1, new byte[] { 7 }).ToColorChannels(3).Pixels);
    }
}
