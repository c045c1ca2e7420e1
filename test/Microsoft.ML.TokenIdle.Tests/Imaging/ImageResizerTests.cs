using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Tests.Imaging;

public class ImageResizerTests
{
    private static PixelImage Raw(string name) => ImageDecoderTests.Expected(name);

    [Theory]
    [InlineData("resize_fill_bilinear_16x12", ResizeMode.Fill, ResamplingFilter.Bilinear)]
    [InlineData("resize_fill_bicubic_56x41", ResizeMode.Fill, ResamplingFilter.Bicubic)]
    [InlineData("resize_isocrop_bilinear_20x20", ResizeMode.IsoCrop, ResamplingFilter.Bilinear)]
    public void ResizingMatchesPillow(string name, ResizeMode mode, ResamplingFilter filter)
    {
        var expected = Raw(name);
        var source = Raw("photo.jpg");
        var image = ImageResizer.Resize(source, expected.Width, expected.Height, mode, ResizeAnchor.Center, filter);
        Assert.Equal((expected.Width, expected.Height, 3), (image.Width, image.Height, image.Channels));

        // Pillow accumulates in fixed point and rounds (and clips the cubic's overshoot) between the
        // two passes; we keep floats in between.
        var worst = expected.Pixels.Zip(image.Pixels, (a, b) => Math.Abs(a - b)).Max();
        var mean = expected.Pixels.Zip(image.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(worst <= (filter == ResamplingFilter.Bicubic ? 2 : 1) && mean < 0.2, $"{name}: largest difference {worst}, mean {mean:F3}");
    }

    [Theory]
    [InlineData(ResizeAnchor.Center, 0, 2)]
    [InlineData(ResizeAnchor.Top, 0, 0)]
    [InlineData(ResizeAnchor.Bottom, 0, 4)]
    public void PaddingKeepsTheAspectRatioAndPlacesTheImageByItsAnchor(ResizeAnchor anchor, int left, int top)
    {
        // A white 8x4 image into 8x8: 8x4 of white, 4 rows of zero padding placed by the anchor.
        var white = new PixelImage(8, 4, 1, Enumerable.Repeat((byte)255, 32).ToArray());
        var padded = ImageResizer.Resize(white, 8, 8, ResizeMode.IsoPad, anchor);
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                var inside = x >= left && y >= top && y < top + 4;
                Assert.Equal(inside ? 255 : 0, padded.Pixels[y * 8 + x]);
            }
        }
    }

    [Fact]
    public void ResizingToTheSameSizeIsTheIdentity()
    {
        var source = Raw("photo.jpg");
        Assert.Equal(source.Pixels, ImageResizer.Resize(source, source.Width, source.Height, ResizeMode.Fill, filter: ResamplingFilter.Bicubic).Pixels);
    }
}
