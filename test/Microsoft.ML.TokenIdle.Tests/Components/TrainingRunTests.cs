using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Tests.Training.Data;
using Microsoft.ML.TokenIdle.Training.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Components;

/// <summary>The one training run every door takes: what it frees when it fails.</summary>
public sealed class TrainingRunTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("training-run");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void ARunThatFailsMidEpochFreesTheModelItBuilt()
    {
        var config = Path.Combine(_dir.FullName, "tiny.json");
        File.WriteAllText(config, """{"img_size":28,"patch_size":7,"in_chans":1,"num_classes":10,"embed_dim":32,"depth":3,"num_heads":2}""");
        var images = Path.Combine(_dir.FullName, "images");
        ImageFilesTests.WriteFolder(images, 20);
        File.WriteAllText(Path.Combine(images, "0", "zz-broken.png"), "not an image");
        var data = ImageFiles.Folder(images, new ImageFileOptions { Format = new ImageInputFormat(28, 1, new[] { 0.3f }, new[] { 0.3f }), CacheBudgetBytes = 0 });

        VisionTransformer? built = null;
        var run = new TrainingRun(new VisionTransformerTrainer.Options { Backbone = Backbone.Files(config), MaxEpoch = 1, BatchSize = 4 }, _ => { }) { ModelBuilt = m => built = m };
        var e = Assert.Throws<InvalidDataException>(() => run.Train(data, null, CPU, seed: 1));
        Assert.Contains("zz-broken.png", e.Message);
        Assert.NotNull(built);
        Assert.All(built!.parameters(), p => Assert.True(p.IsInvalid));
    }

    [Fact]
    public void ARunThatCannotFitInMemoryIsRefusedBeforeTheWeightsAreReadOrTheModelBuilt()
    {
        // IdleViT on the embedded 28-px model at 448 px: 12,545 tokens per image; the estimate is far beyond any machine here.
        var data = ImageFiles.Folder(WriteImages(8), new ImageFileOptions { Format = new ImageInputFormat(448, 1, new[] { 0.3f }, new[] { 0.3f }), CacheBudgetBytes = 0 });
        var messages = new List<string>();
        VisionTransformer? built = null;
        var run = new TrainingRun(new TokenIdleImageClassificationTrainer.Options { Backbone = Backbone.FashionMnist, ImageSize = 448, MaxEpoch = 1, BatchSize = 64 }, messages.Add) { ModelBuilt = m => built = m };
        var e = Assert.Throws<InsufficientMemoryException>(() => run.Train(data, null, CPU, seed: 1));
        Assert.Matches(@"^training needs about [\d.]+ GB \(12,545 tokens per image at 448 px in 4-px patches, batch 64, float32\) and [\d.]+ GB are available: lower the image size \(ImageSize\) or the batch size \(BatchSize\)$", e.Message);
        Assert.Null(built);
        Assert.Contains(messages, m => m.StartsWith("memory: a training step needs about ", StringComparison.Ordinal));
    }

    private string WriteImages(int count)
    {
        var images = Path.Combine(_dir.FullName, $"images-{count}");
        ImageFilesTests.WriteFolder(images, count);
        return images;
    }
}
