using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Tests.Imaging;

/// <summary>Our PNG and JPEG decoding against Pillow's on the files made by eng/make-imaging-test-data.py.</summary>
public class ImageCodecTests
{
    internal static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "Imaging", "Data", name);

    private static PixelImage Expected(string name)
    {
        var bytes = File.ReadAllBytes(DataPath(name + ".raw"));
        var (w, h, c) = (BitConverter.ToInt32(bytes, 0), BitConverter.ToInt32(bytes, 4), BitConverter.ToInt32(bytes, 8));
        return new PixelImage(w, h, c, bytes[12..]);
    }

    [Theory]
    [InlineData("rgb.png")]
    [InlineData("rgba.png")]
    [InlineData("grey.png")]
    [InlineData("grey_alpha.png")]
    [InlineData("palette.png")]
    [InlineData("bilevel.png")]
    [InlineData("grey16.png")]
    [InlineData("interlaced.png")]
    public void PngDecodesToPillowsPixels(string name)
    {
        var expected = Expected(name);
        var image = ImageDecoder.Load(DataPath(name));
        Assert.Equal((expected.Width, expected.Height, expected.Channels), (image.Width, image.Height, image.Channels));
        Assert.Equal(expected.Pixels, image.Pixels);
    }

    [Theory]
    [InlineData("photo.jpg")]
    [InlineData("grey.jpg")]
    [InlineData("orientation3.jpg")]
    [InlineData("orientation6.jpg")]
    [InlineData("orientation8.jpg")]
    public void JpegDecodesToPillowsPixelsTurnedUpright(string name)
    {
        var expected = Expected(name);
        var image = ImageDecoder.Load(DataPath(name));
        Assert.Equal((expected.Width, expected.Height, expected.Channels), (image.Width, image.Height, image.Channels));

        // Both use libjpeg-turbo; allow one level for a different IDCT or upsampling choice.
        var worst = expected.Pixels.Zip(image.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1, $"{name}: largest difference {worst}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void PngRoundTripsEveryChannelCount(int channels)
    {
        var random = new Random(channels);
        var pixels = new byte[31 * 7 * channels];
        random.NextBytes(pixels);
        pixels.AsSpan(0, 40).Clear();
        var image = new PixelImage(31, 7, channels, pixels);
        using var stream = new MemoryStream();
        PngCodec.Encode(image, stream);
        var decoded = PngCodec.Decode(stream.ToArray());
        Assert.Equal((31, 7, channels), (decoded.Width, decoded.Height, decoded.Channels));
        Assert.Equal(pixels, decoded.Pixels);
    }

    [Fact]
    public void CorruptFilesAreRefusedWithTheirNameAndTheReason()
    {
        var dir = Directory.CreateTempSubdirectory("corrupt").FullName;
        try
        {
            var png = File.ReadAllBytes(DataPath("rgb.png"));
            var flipped = (byte[])png.Clone();
            flipped[png.Length / 2] ^= 0x40;
            var jpeg = File.ReadAllBytes(DataPath("photo.jpg"));
            var cases = new (string Name, byte[] Bytes, string Reason)[]
            {
                ("flipped.png", flipped, "bad CRC"),
                ("short.png", png[..(png.Length / 2)], "truncated"),
                ("short.jpg", jpeg[..(jpeg.Length / 2)], "JPEG data"),
                ("text.png", "hello, I am not an image"u8.ToArray(), "not a PNG or JPEG image"),
                ("empty.jpg", Array.Empty<byte>(), "empty file"),
            };
            foreach (var (name, bytes, reason) in cases)
            {
                var path = Path.Combine(dir, name);
                File.WriteAllBytes(path, bytes);
                var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Load(path));
                Assert.Contains(path, e.Message);
                Assert.Contains(reason, e.Message);
            }

            Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(Path.Combine(dir, "missing.png")));
        }
        finally
        {
            Directory.Delete(dir, true);
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
