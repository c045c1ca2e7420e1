using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Augmentation;
using Microsoft.ML.TokenIdle.Training.Data;
using SkiaSharp;

namespace Microsoft.ML.TokenIdle.Tests.Training.Augmentation;

/// <summary>timm's training crop, taken from the decoded source image by every data source, and timm's evaluation crop.</summary>
public sealed class RandomResizedCropTests : IDisposable
{
    private static readonly ImageInputFormat Deit = VisionTransformerConfig.DeitSmall.InputFormat;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("crops");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>A 500 × 375 camera JPEG (the rocket photo, resized and encoded at quality 95), as a user's photo.</summary>
    private string Photo(string name = "photo.jpg")
    {
        var rocket = ImageDecoder.Load(Path.Combine(AppContext.BaseDirectory, "Imaging", "Data", "rocket.jpg"));
        using var bitmap = SkiaConversion.ToBitmap(ImageResizer.Resize(rocket, 500, 375, ResizeMode.IsoCrop));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    // Mean |difference| of horizontally adjacent samples: how much fine detail an image holds.
    private static double Detail(byte[] planar, int size) => Enumerable.Range(0, planar.Length).Where(i => i % size != size - 1).Average(i => Math.Abs(planar[i + 1] - planar[i]));

    /// <summary>
    /// A small crop of a 500 × 375 photo is resampled from the photo itself: exactly the source box resized once to
    /// 224, and it holds the source's detail — the former pipeline cropped the image already resized to 224 and
    /// upsampled the crop, which loses it.
    /// </summary>
    [Fact]
    public void ACropOfALargePhotoCarriesTheSourcesDetail()
    {
        var source = ImageDecoder.Load(Photo());
        Assert.Equal((500, 375), (source.Width, source.Height));
        var crop = new RandomResizedCrop { MinScale = 0.08, HorizontalFlip = false };

        // A seed whose crop is small (under a fifth of the photo): where the two pipelines differ most.
        var seed = Enumerable.Range(0, 100).First(s => crop.Box(375, 500, new Random(s)) is var b && b.Height * b.Width < 0.2 * 375 * 500);
        var (top, left, height, width) = crop.Box(375, 500, new Random(seed));
        var cropped = crop.Apply(source, Deit, new Random(seed));
        Assert.Equal(ImageResizer.ResizedCrop(source, left, top, width, height, 224, 224, Deit.Filter).ToPlanar(), cropped);

        // The former pipeline: the photo fitted to 224 first, then the same box (scaled to it) upsampled back to 224.
        var fitted = Deit.Fit(source);
        var scale = 224.0 / 375;
        var upsampled = ImageResizer.ResizedCrop(fitted, (left - (500 - 375) / 2.0) * scale, top * scale, width * scale, height * scale, 224, 224, Deit.Filter).ToPlanar();
        var (sharp, blurred) = (Detail(cropped, 224), Detail(upsampled, 224));
        Assert.True(sharp > 1.3 * blurred, $"the crop holds {sharp:F2} of detail against {blurred:F2} upsampled from the 224-px image");
    }

    /// <summary>
    /// Every data source crops a training pass's rows from their decoded source images, seeded by row and epoch (the
    /// same whatever the workers), and keeps the source images, not the crops, for the next pass.
    /// </summary>
    [Fact]
    public void ImageFilesViewsAndDatasetsCropTheirSourceImages()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir.FullName, "images"));
        foreach (var label in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(folder.FullName, label));
            File.Move(Photo($"{label}.jpg"), Path.Combine(folder.FullName, label, $"{label}.jpg"));
        }

        var format = Deit;
        var augmentation = new RowAugmentation(new RandomResizedCrop(), Seed: 7, Epoch: 2);
        var files = ImageFiles.Folder(folder.FullName, new ImageFileOptions { Format = format });
        Assert.True(files.Cached);
        byte[] Expected(int key) => augmentation.Apply(key, ImageDecoder.Load(files.Files[key]).ToColorChannels(3), format);
        foreach (var pass in new[] { 1, 2 })
        {
            Assert.Equal(new[] { Expected(0), Expected(1) }, Rows(files, augmentation));
        }

        // The same files through ML.NET's LoadImages, as the trainers read them.
        var context = new MLContext(seed: 1);
        var rows = files.Files.Select((f, i) => new Row { ImagePath = f, Label = i == 0 ? "a" : "b" }).ToList();
        var view = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.LoadImages("Image", null, "ImagePath")).Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows));
        var config = VisionTransformerConfig.DeitSmall with { NumClasses = 2 };
        var source = new DataViewImageSource(view, view.Schema["Image"], view.Schema["Label"], config, new[] { "a", "b" }, 64 << 20, 512 << 20, false, _ => { });
        Assert.Equal(new[] { Expected(0), Expected(1) }, Rows(source, augmentation));

        // Images in memory are their own sources.
        var dataset = new ImageDataset(Expected(0).Concat(Expected(1)).ToArray(), new[] { 0, 1 }, format, 2);
        var planar = dataset.Pixels.AsSpan(0, format.PlanarLength);
        Assert.Equal(augmentation.Apply(0, PixelImage.FromPlanar(planar, 3, 224, 224), format), Rows(dataset, augmentation)[0]);
    }

    /// <summary>
    /// timm's evaluation transform for DeiT (crop_pct 0.875: the shorter side scaled to 256, the centre 224 kept) as one
    /// resampling of the central source box: within 1.5 levels on average of doing it in two steps as timm does.
    /// </summary>
    [Fact]
    public void EvaluationCropsTheCentreByTheCheckpointsCropPercent()
    {
        var source = ImageDecoder.Load(Photo());
        var format = Deit with { CropPercent = 0.875 };
        var fitted = format.Fit(source);
        var side = 375 * 224 / 256.0;
        Assert.Equal(ImageResizer.ResizedCrop(source, Math.Floor((500 - side) / 2), Math.Floor((375 - side) / 2), side, side, 224, 224, format.Filter).Pixels, fitted.Pixels);

        // timm: Resize(256) keeps the aspect ratio (341 × 256), CenterCrop(224) keeps rows 16.. and columns 58.. (Python's round).
        var twoSteps = ImageResizer.ResizedCrop(ImageResizer.Resize(source, 341, 256, ResizeMode.Fill, filter: format.Filter), 58, 16, 224, 224, 224, 224, format.Filter);
        var gap = fitted.Pixels.Zip(twoSteps.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(gap < 1.5, $"one resampling differs from timm's two steps by {gap:F2} levels on average");

        // Without crop_pct, the largest centred square, as before.
        Assert.Equal(ImageResizer.Resize(source, 224, 224, ResizeMode.IsoCrop, filter: Deit.Filter).Pixels, Deit.Fit(source).Pixels);
    }

    private static List<byte[]> Rows(ImageSource source, RowAugmentation augmentation)
    {
        using var reader = new BatchReader(source, source.Order(null), 0, source.Count, dropLast: false, new DataPipelineOptions { Workers = 2 }, augmentation);
        var result = new List<byte[]>();
        for (var row = reader.NextRow(); row is not null; row = reader.NextRow())
        {
            result.Add(row.Value.Pixels!);
        }

        return result;
    }

    private sealed class Row
    {
        public string ImagePath { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;
    }
}
