using TorchSharp;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle.Tests.Training;

public class TrainerTests
{
    private static readonly VisionTransformerConfig Tiny = new()
    {
        ImageSize = 16, PatchSize = 4, InChannels = 1, NumClasses = 4, EmbedDim = 32, Depth = 4, NumHeads = 2,
    };

    /// <summary>Random 16×16 grey images whose class is written as a bright quadrant, so the task is learnable.</summary>
    private static ImageDataset Synthetic(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 256];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 4;
            for (var p = 0; p < 256; p++)
            {
                var (y, x) = (p / 16, p % 16);
                var quadrant = (y / 8 * 2) + (x / 8);
                pixels[i * 256 + p] = (byte)(random.Next(100) + (quadrant == labels[i] ? 150 : 0));
            }
        }

        return new ImageDataset(pixels, labels, new ImageInputFormat(16, 1, new[] { 0.3f }, new[] { 0.25f }), 4);
    }

    public static TheoryData<string, Precision> Methods
    {
        get
        {
            var data = new TheoryData<string, Precision>();
            foreach (var method in new[] { "full", "evit-fuse", "idle", "life" })
            {
                data.Add(method, Precision.Float32);
                data.Add(method, Precision.BFloat16);
            }

            return data;
        }
    }

    private static TokenReductionStrategy? Strategy(string method)
        => TokenReductionMethods.Create(TokenReductionMethods.Parse(method), Tiny, 0.5);

    [Theory]
    [MemberData(nameof(Methods))]
    public void ATinyModelOverfitsATinyBatchWithEachMethod(string method, Precision precision)
    {
        var data = Synthetic(8, 1);
        var model = new VisionTransformer(Tiny, seed: 3);
        // The class is where the bright quadrant is: no crops or flips, which would move it.
        var options = new TrainerOptions { Epochs = 150, BatchSize = 8, LearningRate = 2e-3, LabelSmoothing = 0, WeightDecay = 0, Precision = precision, MinCropScale = 1, HorizontalFlip = false };
        var losses = new List<double>();
        new Trainer(model, Strategy(method), options).Fit(data, progress: new SynchronousProgress(p =>
        {
            if (!p.EpochCompleted)
            {
                losses.Add(p.Loss);
            }
        }));
        Assert.True(losses[^1] * 10 < losses[0], $"{method} in {precision}: loss went from {losses[0]:g3} to {losses[^1]:g3}");
        Assert.All(model.parameters(), p => Assert.Equal(TorchSharp.torch.ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Float16TrainingAndAConvertedModelAreRefusedWithTheReason()
    {
        var e = Assert.Throws<ArgumentException>(() => new Trainer(new VisionTransformer(Tiny), null, new TrainerOptions { Precision = Precision.Float16 }));
        Assert.Contains("loss scaling", e.Message);
        var converted = new VisionTransformer(Tiny);
        converted.to(TorchSharp.torch.ScalarType.BFloat16);
        e = Assert.Throws<ArgumentException>(() => new Trainer(converted, null, new TrainerOptions { Precision = Precision.BFloat16 }));
        Assert.Contains("float32 weights", e.Message);
    }

    [Fact]
    public void DisposeFreesTheTeacherAndLeavesTheTrainedModelUsable()
    {
        var model = new VisionTransformer(Tiny, seed: 3);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 8, Objective = new IdleVitObjective { LogitWeight = 1, FeatureWeight = 10, CutWeight = 5 } };
        List<TorchSharp.Modules.Parameter> teacher;
        using (var trainer = new Trainer(model, Strategy("idle"), options))
        {
            trainer.Fit(Synthetic(8, 1));
            teacher = trainer.Teacher!.parameters().ToList();
            Assert.All(teacher, p => Assert.False(p.IsInvalid));
        }

        Assert.All(teacher, p => Assert.True(p.IsInvalid));
        Assert.All(model.parameters(), p => Assert.False(p.IsInvalid));
        using var noGrad = TorchSharp.torch.no_grad();
        using var images = TorchSharp.torch.randn(2, Tiny.InChannels, Tiny.ImageSize, Tiny.ImageSize);
        using var logits = model.forward(images);
        Assert.Equal(new long[] { 2, Tiny.NumClasses }, logits.shape);
    }

    [Theory]
    [InlineData(Precision.Float32)]
    [InlineData(Precision.BFloat16)]
    public void AResumedRunEqualsAnUninterruptedOne(Precision precision)
    {
        var data = Synthetic(32, 2);
        TrainerOptions Options(string? dir) => new()
        {
            Precision = precision,
            Epochs = 3, BatchSize = 8, LearningRate = 1e-3, WarmupEpochs = 1, MinCropScale = 0.5, HorizontalFlip = true, MixupAlpha = 0.8, Seed = 5, CheckpointDirectory = dir,
            Objective = new IdleVitObjective { LogitWeight = 1, FeatureWeight = 10, CutWeight = 5 },
        };
        var strategy = Strategy("idle");
        var straight = new VisionTransformer(Tiny, seed: 4);
        new Trainer(straight, strategy, Options(null)).Fit(data);

        var dir = Directory.CreateTempSubdirectory("ckpt").FullName;
        try
        {
            var first = new VisionTransformer(Tiny, seed: 4);
            var cancel = new CancellationTokenSource();
            var trainer = new Trainer(first, strategy, Options(dir));
            Assert.Throws<OperationCanceledException>(() => trainer.Fit(data, progress: new SynchronousProgress(p =>
            {
                if (p.Epoch == 1 && !p.EpochCompleted)
                {
                    cancel.Cancel();
                }
            }), cancellation: cancel.Token));

            // Resuming starts from the same starting weights (they are the teacher); the checkpoint replaces the student's.
            var resumed = new VisionTransformer(Tiny, seed: 4);
            var changed = Values(resumed)["blocks.0.mlp.fc1.weight"];
            var again = new Trainer(resumed, strategy, Options(dir));
            again.Resume(Path.Combine(dir, "last.ckpt.safetensors"));
            Assert.Equal(1, again.CompletedEpochs);
            Assert.NotEqual(changed, Values(resumed)["blocks.0.mlp.fc1.weight"]);
            again.Fit(data);
            var resumedValues = Values(resumed);
            foreach (var (name, p) in Values(straight))
            {
                Assert.True(p.SequenceEqual(resumedValues[name]), $"{name} differs after resuming");
            }

            Assert.True(File.Exists(Path.Combine(dir, "best.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TempFilesOfAnInterruptedCheckpointWriteAreRemovedAtTheNextStart()
    {
        var dir = Directory.CreateTempSubdirectory("leftovers").FullName;
        try
        {
            // What AtomicFile leaves when the process is killed mid-write, beside files that are not its own.
            var leftover = Path.Combine(dir, $".last.ckpt.safetensors.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(leftover, new byte[100]);
            File.WriteAllText(Path.Combine(dir, ".notes.tmp"), "mine");
            new Trainer(new VisionTransformer(Tiny, seed: 5), null, new TrainerOptions { Epochs = 1, BatchSize = 8, CheckpointDirectory = dir }).Fit(Synthetic(16, 3));
            Assert.False(File.Exists(leftover));
            Assert.True(File.Exists(Path.Combine(dir, ".notes.tmp")));
            Assert.True(File.Exists(Path.Combine(dir, "last.ckpt.safetensors")));
            Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp", StringComparison.Ordinal) && f.Contains(".safetensors.", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TheNanGuardStopsTrainingAndKeepsTheLastCheckpoint()
    {
        var data = Synthetic(16, 3);
        var dir = Directory.CreateTempSubdirectory("nan").FullName;
        try
        {
            var model = new VisionTransformer(Tiny, seed: 5);
            var cancel = new CancellationTokenSource();
            Assert.Throws<OperationCanceledException>(() => new Trainer(model, null, new TrainerOptions { Epochs = 3, BatchSize = 8, CheckpointDirectory = dir })
                .Fit(data, progress: new SynchronousProgress(p =>
                {
                    if (p.EpochCompleted)
                    {
                        cancel.Cancel();
                    }
                }), cancellation: cancel.Token));
            var checkpoint = Path.Combine(dir, "last.ckpt.safetensors");
            var before = File.ReadAllBytes(checkpoint);

            var exploding = new Trainer(model, null, new TrainerOptions { Epochs = 3, BatchSize = 8, LearningRate = 1e30, ClipGradNorm = 0, CheckpointDirectory = dir });
            exploding.Resume(checkpoint);
            var e = Assert.Throws<TrainingDivergedException>(() => exploding.Fit(data));
            Assert.Contains("training diverged", e.Message);
            Assert.Contains("last.ckpt.safetensors", e.Message);
            Assert.Equal(before, File.ReadAllBytes(checkpoint));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void EarlyStoppingEndsTheRunWhenValidationStopsImproving()
    {
        var data = Synthetic(16, 7);
        var model = new VisionTransformer(Tiny, seed: 8);
        var options = new TrainerOptions { Epochs = 6, BatchSize = 8, LearningRate = 1e-9, MinLearningRate = 0, EarlyStopping = new EarlyStopping(MinDelta: 0.5, Patience: 2) };
        var trainer = new Trainer(model, null, options);
        trainer.Fit(data, data);
        Assert.True(trainer.StoppedEarly);
        Assert.Equal(3, trainer.CompletedEpochs);

        Assert.Throws<ArgumentException>(() => new Trainer(model, null, options).Fit(data));
    }

    [Fact]
    public void LifeRegressionStagesTrainOnlyTheirPart()
    {
        var data = Synthetic(16, 4);
        var model = new VisionTransformer(Tiny, seed: 6);
        var strategy = Strategy("life")!;
        var predictor = ((LifeRegressionSelector)strategy.Selector).Predictor;
        var backbone = Values(model);
        var bilinear = Values(predictor)["bilinear.weight"];

        new Trainer(model, strategy, new TrainerOptions { BatchSize = 8, Stage = TrainingStage.PredictorOnly }).Fit(data);
        Assert.All(Values(model), kv => Assert.Equal(backbone[kv.Key], kv.Value));
        Assert.NotEqual(bilinear, Values(predictor)["bilinear.weight"]);

        bilinear = Values(predictor)["bilinear.weight"];
        new Trainer(model, strategy, new TrainerOptions { BatchSize = 8, Stage = TrainingStage.BackboneOnly }).Fit(data);
        Assert.Equal(bilinear, Values(predictor)["bilinear.weight"]);
        Assert.NotEqual(backbone["head.weight"], Values(model)["head.weight"]);

        var e = Assert.Throws<ArgumentException>(() => new Trainer(model, Strategy("idle"), new TrainerOptions { Stage = TrainingStage.PredictorOnly }));
        Assert.Contains("needs a life-regression method", e.Message);
    }

    [Fact]
    public void EvaluationCountsTopOneAndTopFive()
    {
        var data = Synthetic(16, 5);
        var model = new VisionTransformer(Tiny, seed: 7);
        new Trainer(model, null, new TrainerOptions { Epochs = 60, BatchSize = 16, LearningRate = 2e-3, LabelSmoothing = 0, MinCropScale = 1, HorizontalFlip = false }).Fit(data);
        var result = Evaluator.Evaluate(model, null, data, batchSize: 5);
        Assert.Equal(16, result.Count);
        Assert.Equal(1.0, result.Top5);
        Assert.True(result.Top1 > 0.9, $"top-1 {result.Top1} on the training images");
        Assert.True(result.Loss < 0.5);
    }

    /// <summary>The synthetic images as PNG files in class folders, read back as a streamed source (or a cached one).</summary>
    private static ImageFileSource SyntheticFolder(string root, int count, int seed, long cacheBytes = 0, int? brokenAt = null, bool skip = false)
    {
        var data = Synthetic(count, seed);
        for (var i = 0; i < count; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, data.Labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            var file = Path.Combine(dir, $"{i:D4}.png");
            if (i == brokenAt)
            {
                File.WriteAllText(file, "not a png");
                continue;
            }

            PngEncoder.Save(new PixelImage(16, 16, 1, data.Pixels.AsSpan(i * 256, 256).ToArray()), file);
        }

        return ImageFiles.Folder(root, new ImageFileOptions { Format = data.Format, Classes = 4, CacheBudgetBytes = cacheBytes, SkipUnreadable = skip });
    }

    private static TrainerOptions Streaming(int epochs, string? dir = null) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = 1e-3, WarmupEpochs = 0.5, MinCropScale = 0.6, HorizontalFlip = true, MixupAlpha = 0.5, Seed = 11, CheckpointDirectory = dir,
        Objective = new IdleVitObjective { LogitWeight = 1, FeatureWeight = 10, CutWeight = 5 }, Data = new DataPipelineOptions { Workers = 2, PrefetchBatches = 2 },
    };

    [Fact]
    public void AStreamedFolderTrainsExactlyAsItsCachedCopyAndAsTheSameImagesInMemory()
    {
        using var temp = new TempFolder();
        var streamed = SyntheticFolder(Path.Combine(temp.Path, "a"), 40, 3);
        var cached = SyntheticFolder(Path.Combine(temp.Path, "b"), 40, 3, cacheBytes: 1 << 20);
        Assert.False(streamed.Cached);
        Assert.True(cached.Cached);
        var (pixels, labels) = Data.SourceReading.ReadAll(streamed);
        var inMemory = new ImageDataset(pixels, labels, streamed.Format, 4);

        (List<double> Losses, Dictionary<string, float[]> Weights) Run(ImageSource data)
        {
            var model = new VisionTransformer(Tiny, seed: 4);
            var losses = new List<double>();
            new Trainer(model, Strategy("idle"), Streaming(3)).Fit(data, progress: new SynchronousProgress(p => losses.Add(p.Loss)));
            return (losses, Values(model));
        }

        var reference = Run(streamed);
        Assert.Equal((3 * 5) + 3, reference.Losses.Count);
        foreach (var other in new ImageSource[] { cached, inMemory })
        {
            var run = Run(other);
            Assert.Equal(reference.Losses, run.Losses);
            foreach (var (name, values) in reference.Weights)
            {
                Assert.True(values.SequenceEqual(run.Weights[name]), $"{name} differs");
            }
        }
    }

    [Fact]
    public void MaxStepsLaysTheScheduleOverThemAndAStepCheckpointResumesMidEpochExactly()
    {
        using var temp = new TempFolder();
        var data = SyntheticFolder(Path.Combine(temp.Path, "data"), 32, 4);
        TrainerOptions Options(string? dir) => Streaming(1, dir) with { MaxSteps = 7, CheckpointSteps = 3 };
        var straight = new VisionTransformer(Tiny, seed: 4);
        var rates = new List<double>();
        var trainer = new Trainer(straight, Strategy("idle"), Options(null));
        trainer.Fit(data, progress: new SynchronousProgress(p =>
        {
            if (!p.EpochCompleted)
            {
                rates.Add(p.LearningRate);
            }
        }));
        Assert.Equal((7L, 1), (trainer.CompletedSteps, trainer.CompletedEpochs));
        Assert.Equal(7, rates.Count);
        Assert.True(rates[^1] < rates.Max() / 4, $"the cosine ends near its floor over 7 steps: {string.Join(", ", rates)}");

        var dir = Path.Combine(temp.Path, "run");
        var cancel = new CancellationTokenSource();
        var first = new Trainer(new VisionTransformer(Tiny, seed: 4), Strategy("idle"), Options(dir));
        Assert.Throws<OperationCanceledException>(() => first.Fit(data, progress: new SynchronousProgress(p =>
        {
            if (first.CompletedSteps == 6)
            {
                cancel.Cancel();
            }
        }), cancellation: cancel.Token));

        // The step-6 checkpoint is 2 steps into the second epoch of 4 steps.
        var resumed = new VisionTransformer(Tiny, seed: 4);
        var again = new Trainer(resumed, Strategy("idle"), Options(dir));
        again.Resume(Path.Combine(dir, "last.ckpt.safetensors"));
        Assert.Equal((6L, 1, 2), (again.CompletedSteps, again.CompletedEpochs, again.StepsIntoEpoch));
        again.Fit(data);
        var resumedValues = Values(resumed);
        foreach (var (name, p) in Values(straight))
        {
            Assert.True(p.SequenceEqual(resumedValues[name]), $"{name} differs after resuming mid-epoch");
        }

        var longer = new Trainer(new VisionTransformer(Tiny, seed: 4), Strategy("idle"), Options(dir) with { MaxSteps = 9 });
        Assert.Contains("MaxSteps = 7, this one has 9", Assert.Throws<InvalidDataException>(() => longer.Resume(Path.Combine(dir, "last.ckpt.safetensors"))).Message);
    }

    [Fact]
    public void AnUnreadableFileMidStreamStopsTheRunWithItsNameOrIsSkippedAndCounted()
    {
        using var temp = new TempFolder();
        var broken = SyntheticFolder(Path.Combine(temp.Path, "a"), 33, 5, brokenAt: 20);
        var e = Assert.Throws<InvalidDataException>(() => new Trainer(new VisionTransformer(Tiny, seed: 4), null, Streaming(1)).Fit(broken));
        Assert.Contains(Path.Combine(temp.Path, "a", "0", "0020.png"), e.Message);
        Assert.Contains("of 33)", e.Message);

        var skipping = SyntheticFolder(Path.Combine(temp.Path, "b"), 33, 5, brokenAt: 20, skip: true);
        var trainer = new Trainer(new VisionTransformer(Tiny, seed: 4), null, Streaming(2));
        trainer.Fit(skipping);
        Assert.Equal(1, skipping.SkippedCount);
        Assert.Equal(8, trainer.CompletedSteps);
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("trainer-data").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    private static Dictionary<string, float[]> Values(TorchSharp.torch.nn.Module module)
        => module.NamedParameters().ToDictionary(p => p.Key, p => p.Value.detach().data<float>().ToArray());
}
