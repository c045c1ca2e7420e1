using Microsoft.ML.TokenIdle.Samples;

namespace Microsoft.ML.TokenIdle.Tests.Samples;

/// <summary>The ImageFolder sample on the shipped tiny JPEG folder with the deit-tiny fixture checkpoint (at 64 px, a new 2-class head).</summary>
public class ImageFolderSampleTests
{
    [Fact]
    public void TheSampleFinetunesADeitCheckpointOnAJpegFolderAndSavesAModel()
    {
        var set = FixtureSet.Get("deit-tiny");
        var folder = Path.Combine(RepositoryPaths.Root, "samples", "data", "shapes-jpeg");
        var output = Path.Combine(Path.GetTempPath(), $"imagefolder-{Guid.NewGuid():N}.zip");
        try
        {
            var log = new List<string>();
            var result = ImageFolderFinetuning.Run(new ImageFolderFinetuning.Settings(folder, set.ConfigPath, set.WeightsPath) { Epochs = 2, ImageSize = 64, BatchSize = 6, Output = output }, log.Add);
            Assert.InRange(result.Accuracy, 0, 1);
            Assert.True(double.IsFinite(result.LogLoss));
            Assert.Contains(log, m => m.Contains("training a new head for 2", StringComparison.Ordinal));
            var loaded = new MLContext().Model.Load(output, out var schema);
            Assert.Equal(new[] { "ImagePath", "Label" }, schema!.Select(c => c.Name));
            Assert.NotNull(loaded);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void WithoutAnImageSizeTheSampleTrainsAtTheCheckpointsOwnSize()
    {
        // The micro checkpoint is made for 32-px images: the sample's default must be that, as the trainers' is (it was 224).
        var set = FixtureSet.Get("micro");
        var folder = Path.Combine(RepositoryPaths.Root, "samples", "data", "shapes-jpeg");
        var output = Path.Combine(Path.GetTempPath(), $"imagefolder-{Guid.NewGuid():N}.zip");
        try
        {
            var settings = new ImageFolderFinetuning.Settings(folder, set.ConfigPath, set.WeightsPath) { Epochs = 1, BatchSize = 8, Output = output };
            Assert.Null(settings.ImageSize);
            var log = new List<string>();
            ImageFolderFinetuning.Run(settings, log.Add);
            Assert.Contains(log, m => m.Contains("65 tokens per image at 32 px", StringComparison.Ordinal));
            var loaded = (IEnumerable<ITransformer>)new MLContext().Model.Load(output, out _);
            Assert.Equal(32, loaded.OfType<VisionTransformerClassifier>().Single().Model.Config.ImageSize);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
