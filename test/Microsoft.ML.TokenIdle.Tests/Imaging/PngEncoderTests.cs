using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Tests.Imaging;

public class PngEncoderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PngRoundTripsThroughTheDecoder(int channels)
    {
        var pixels = new byte[31 * 7 * channels];
        new Random(channels).NextBytes(pixels);
        var image = new PixelImage(31, 7, channels, pixels);
        var decoded = ImageDecoder.Decode(PngEncoder.Encode(image), "encoded");
        Assert.Equal((31, 7, 3), (decoded.Width, decoded.Height, decoded.Channels));
        Assert.Equal(image.ToColorChannels(3).Pixels, decoded.Pixels);
    }

    [Fact]
    public void SavingIsAtomic()
    {
        var dir = Directory.CreateTempSubdirectory("png").FullName;
        try
        {
            var path = Path.Combine(dir, "a.png");
            PngEncoder.Save(new PixelImage(3, 2, 3, new byte[18]), path);
            Assert.Equal((3, 2), (ImageDecoder.Load(path).Width, ImageDecoder.Load(path).Height));
            Assert.Throws<DirectoryNotFoundException>(() => PngEncoder.Save(new PixelImage(3, 2, 3, new byte[18]), Path.Combine(dir, "missing", "b.png")));
            Assert.Equal(new[] { path }, Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
