using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Tests.Training.Data;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests.Components;

/// <summary>The trainers reading an ML.NET pipeline through the data pipeline: order, determinism, unreadable rows, memory.</summary>
[Collection(AllocationBound.Name)]
public sealed class DataViewImageSourceTests : IClassFixture<ImagePipelineData>
{
    private readonly ImagePipelineData _data;

    public DataViewImageSourceTests(ImagePipelineData data) => _data = data;

    private static (byte[] Pixels, int[] Labels) Data(ImageSource source, int? seed, int workers) => SourceReading.ReadAll(source, seed, workers);

    private float[] HeadAfterTraining(IDataView rows, int workers, long? maxSteps = 5, Action<VisionTransformerTrainer.Options>? change = null, List<string>? log = null)
    {
        var context = new MLContext(seed: 1);
        if (log is not null)
        {
            context.Log += (_, e) => log.Add(e.RawMessage);
        }

        var options = _data.Recipe(new VisionTransformerTrainer.Options { CacheBudgetMegabytes = 0, DataWorkers = workers, MaxSteps = maxSteps });
        change?.Invoke(options);
        var model = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(options)).Fit(rows);
        return model.OfType<VisionTransformerClassifier>().Single().Model.Head.weight!.data<float>().ToArray();
    }

    [Fact]
    public void AViewReadInChunksGivesThePermutationItsCachedCopyGives()
    {
        var context = new MLContext(seed: 1);
        var view = _data.Prepare(context).Fit(context.Data.LoadFromEnumerable(_data.Rows())).Transform(context.Data.LoadFromEnumerable(_data.Rows()));
        Assert.False(view.CanShuffle);
        var config = VisionTransformerConfig.Load(_data.ConfigPath) with { NumClasses = 10 };
        var names = Enumerable.Range(0, 10).Select(i => "class" + i).ToArray();

        // A buffer of 24 rows: each pass of 160 rows reads the view 7 times, decoding each row once.
        DataViewImageSource Source(long cacheBytes) => new(view, view.Schema["Image"], view.Schema["Label"], config, names, 24 * config.InputFormat.PlanarLength, cacheBytes, false, _ => { });
        var streamed = Source(0);
        Assert.Equal(160, streamed.Count);
        Assert.False(streamed.Cached);
        var permuted = Data(streamed, seed: 7, workers: 3);
        Assert.Equal(permuted.Labels, streamed.Order(7).Labels);
        Assert.NotEqual(Data(streamed, seed: null, workers: 1).Labels, permuted.Labels);

        // Kept in memory, the first pass fills the cache and the second reads no cursor: the same permutation either way.
        var cached = Source(1L << 20);
        Assert.True(cached.Cached);
        Assert.Equal(streamed.Order(3).Labels, Data(cached, seed: 3, workers: 2).Labels);
        foreach (var other in new[] { Data(streamed, seed: 7, workers: 1), Data(cached, seed: 7, workers: 1) })
        {
            Assert.Equal(permuted.Labels, other.Labels);
            Assert.True(permuted.Pixels.AsSpan().SequenceEqual(other.Pixels), "the pixels differ");
        }
    }

    [Fact]
    public void AStreamedViewTrainsTheModelItsCachedCopyTrainsWhateverTheWorkers()
    {
        var context = new MLContext(seed: 1);
        var list = context.Data.LoadFromEnumerable(_data.Rows());
        var streamed = HeadAfterTraining(list, workers: 1);
        Assert.Equal(streamed, HeadAfterTraining(list, workers: 3));
        var log = new List<string>();
        Assert.Equal(streamed, HeadAfterTraining(list, workers: 2, change: o => o.CacheBudgetMegabytes = 64, log: log));
        Assert.Contains(log, m => m.StartsWith("training: 160 rows, kept in memory after their first read", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnreadableImageStopsTheRunWithItsRowOrIsSkippedAndCounted()
    {
        var bad = Path.Combine(_data.Images, "1", "unreadable.png");
        File.WriteAllText(bad, "not a png");
        try
        {
            var context = new MLContext(seed: 1);
            var rows = context.Data.LoadFromEnumerable(_data.Rows());
            var e = Assert.Throws<InvalidDataException>(() => HeadAfterTraining(rows, workers: 2, maxSteps: null));
            Assert.Contains("(ImagePath: '1/unreadable.png'): ", e.Message);
            Assert.Contains("set SkipUnreadableImages", e.Message);

            var log = new List<string>();
            HeadAfterTraining(rows, workers: 2, maxSteps: null, change: o => o.SkipUnreadableImages = true, log: log);
            Assert.Single(log, m => m.StartsWith("skipped an unreadable training image: image column 'Image', row ", StringComparison.Ordinal) && m.Contains("1/unreadable.png", StringComparison.Ordinal));
            Assert.Contains("1 unreadable images were skipped", log);
            Assert.Contains(log, m => m.StartsWith("Epoch 1: training loss", StringComparison.Ordinal) && m.Contains(" img/s decoded, ", StringComparison.Ordinal) && m.Contains("waiting for data", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void TwentyThousandPathRowsAt224PixelsTrainWithoutHoldingTheirImages()
    {
        // 20,000 RGB inputs of 224 px are 3 GB decoded: the trainer of the last release allocated all of them.
        var config = Path.Combine(_data.Root, "wide.json");
        File.WriteAllText(config, """{"img_size":224,"patch_size":32,"in_chans":3,"num_classes":10,"embed_dim":16,"depth":1,"num_heads":1}""");
        var image = _data.Rows()[0].ImagePath;
        var rows = Enumerable.Range(0, 20_000).Select(i => new ImagePipelineData.ImageRow { ImagePath = image, Label = "class" + (i % 10) }).ToList();
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.RawMessage);
        var options = new VisionTransformerTrainer.Options { Backbone = Backbone.Files(config), MaxSteps = 3, BatchSize = 8, DataWorkers = 2, Seed = 1 };
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(options)).Fit(context.Data.LoadFromEnumerable(rows));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("training: 20000 rows, streamed every epoch", log);
        Assert.True(allocated < 200L << 20, $"training 3 steps on 20,000 rows allocated {allocated >> 20} MB");
    }
}

/// <summary>Tests that measure the process's allocations run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationBound
{
    public const string Name = "allocation bound";
}
