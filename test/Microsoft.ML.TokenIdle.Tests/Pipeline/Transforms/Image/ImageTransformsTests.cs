using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;
using Microsoft.ML.TokenIdle.Tests.Imaging;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline.Transforms.Image;

public class ImageTransformsTests
{
    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = string.Empty;
    }

    public sealed class Pixels
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Bytes
    {
        public byte[] Encoded { get; set; } = Array.Empty<byte>();
    }

    private static readonly string Folder = Path.GetDirectoryName(ImageCodecTests.DataPath("photo.jpg"))!;

    [Fact]
    public void LoadResizeExtractGivesTheResizedPixelsPlanarAndScaled()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = "photo.jpg" }, new ImageRow { ImagePath = "grey.png" } });
        var pipeline = context.Transforms.LoadImages("Image", Folder, "ImagePath")
            .Append(context.Transforms.ResizeImages("Image", 8, 6, filter: ResamplingFilter.Bicubic))
            .Append(context.Transforms.ExtractPixels("Features", "Image", offsetImage: 10, scaleImage: 0.5f));
        var output = pipeline.Fit(data).Transform(data);
        var type = Assert.IsType<VectorDataViewType>(output.Schema["Features"].Type);
        Assert.Equal(new[] { 3, 6, 8 }, type.Dimensions);
        Assert.Equal("Image<6, 8>", output.Schema["Image"].Type.ToString());

        var rows = context.Data.CreateEnumerable<Pixels>(output, false, ignoreMissingColumns: true).ToList();
        var photo = ImageResizer.Resize(ImageDecoder.Load(Path.Combine(Folder, "photo.jpg")), 8, 6, ResizeMode.IsoCrop, ResizeAnchor.Center, ResamplingFilter.Bicubic);
        for (var c = 0; c < 3; c++)
        {
            for (var i = 0; i < 48; i++)
            {
                Assert.Equal((photo.Pixels[i * 3 + c] - 10) * 0.5f, rows[0].Features[c * 48 + i]);
            }
        }

        // A grey image gives three equal planes.
        Assert.Equal(rows[1].Features[..48], rows[1].Features[48..96]);
        Assert.Equal(rows[1].Features[..48], rows[1].Features[96..]);
    }

    [Fact]
    public void OrderAlphaAndInterleavingFollowTheOptions()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = "rgba.png" } });
        var rgba = ImageDecoder.Load(Path.Combine(Folder, "rgba.png"));
        var pipeline = context.Transforms.LoadImages("Image", Folder, "ImagePath")
            .Append(context.Transforms.ResizeImages("Image", rgba.Width, rgba.Height, resizing: ImageResizingEstimator.ResizingKind.Fill))
            .Append(context.Transforms.ExtractPixels("Features", "Image", ImagePixelExtractingEstimator.ColorBits.All, ImagePixelExtractingEstimator.ColorsOrder.ABGR, interleavePixelColors: true));
        var values = context.Data.CreateEnumerable<Pixels>(pipeline.Fit(data).Transform(data), false, ignoreMissingColumns: true).Single().Features;
        for (var i = 0; i < rgba.Width * rgba.Height; i++)
        {
            Assert.Equal(new float[] { rgba.Pixels[i * 4 + 3], rgba.Pixels[i * 4 + 2], rgba.Pixels[i * 4 + 1], rgba.Pixels[i * 4] }, values[(i * 4)..(i * 4 + 4)]);
        }
    }

    [Fact]
    public void ExtractingUnsizedImagesAndReadingMissingFilesFailWithTheirNames()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = "does-not-exist.png" } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => context.Transforms.LoadImages("Image", Folder, "ImagePath").Append(context.Transforms.ExtractPixels("Features", "Image")).Fit(data));
        Assert.StartsWith("Schema mismatch for input column 'Image': expected known-size image (resize it first), got Image", e.Message);

        var loaded = context.Transforms.LoadImages("Image", Folder, "ImagePath").Append(context.Transforms.ResizeImages("Image", 4, 4)).Append(context.Transforms.ExtractPixels("Features", "Image")).Fit(data).Transform(data);
        var missing = Assert.Throws<FileNotFoundException>(() => context.Data.CreateEnumerable<Pixels>(loaded, false, ignoreMissingColumns: true).ToList());
        Assert.Contains("does-not-exist.png", missing.Message);
    }

    [Fact]
    public void RawBytesAreTheFilesBytes()
    {
        var context = new MLContext(1);
        var data = context.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = "photo.jpg" } });
        var output = context.Transforms.LoadRawImageBytes("Encoded", Folder, "ImagePath").Fit(data).Transform(data);
        Assert.False(((VectorDataViewType)output.Schema["Encoded"].Type).IsKnownSize);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Folder, "photo.jpg")), context.Data.CreateEnumerable<Bytes>(output, false, ignoreMissingColumns: true).Single().Encoded);
    }
}
