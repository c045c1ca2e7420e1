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
}
