using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tests.Components;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Training;

/// <summary>
/// Everything the library creates while training and scoring follows the model's device, checked without a GPU: with
/// libtorch's default device set to <c>meta</c> (tensors without data), a tensor or module the library made without
/// naming its device would land there and meet the model's CPU tensors ("Expected all tensors to be on the same
/// device"), or fail to copy out ("Cannot copy out of meta tensor"). The default device is process-wide, so these
/// tests run in the collection that runs alone. What this covers: every tensor factory and module constructor on the
/// training and scoring paths — the teacher, the life predictor, masks, targets, augmentation, drop path, clipping,
/// evaluation, batches, traces, the ML.NET trainer's whole Fit and the classifier's scoring and zip round trip. What it
/// cannot: kernels that only CUDA runs, and whether a copy blocks (on the CPU none does).
/// </summary>
[Collection(AllocationBound.Name)]
public sealed class DevicePlacementTests : IClassFixture<ImagePipelineData>
{
    private static readonly VisionTransformerConfig Tiny = new()
    {
        ImageSize = 16, PatchSize = 4, InChannels = 1, NumClasses = 4, EmbedDim = 32, Depth = 4, NumHeads = 2, DropPathRate = 0.1,
    };

    private readonly ImagePipelineData _data;

    public DevicePlacementTests(ImagePipelineData data) => _data = data;

    [Fact]
    public void TheCheckBitesOnATensorMadeWithoutItsDevice()
    {
        using var cpu = ones(2, device: CPU);
        var e = Assert.ThrowsAny<Exception>(() => OnMetaByDefault(() =>
        {
            using var stray = ones(2);
            using var sum = cpu + stray;
        }));
        Assert.Contains("device", e.Message);
    }

    [Theory]
    [InlineData("full")]
    [InlineData("idle")]
    [InlineData("evit-fuse")]
    [InlineData("life")]
    public void ATrainingRunWithEveryOptionAndItsEvaluationCreateNothingOffTheModelsDevice(string method)
    {
        using var model = new VisionTransformer(Tiny, seed: 1);
        var strategy = TokenReductionMethods.Create(TokenReductionMethods.Parse(method), Tiny, 0.5);
        var random = new Random(3);
        var pixels = new byte[16 * 256];
        random.NextBytes(pixels);
        var data = new ImageDataset(pixels, Enumerable.Range(0, 16).Select(i => i % 4).ToArray(), new ImageInputFormat(16, 1, new[] { 0.3f }, new[] { 0.25f }), 4);
        var options = new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, MinCropScale = 0.5, HorizontalFlip = true, MixupAlpha = 0.4, CutmixAlpha = 0.4, ClipGradNorm = 1,
            Objective = new IdleVitObjective(),
        };
        OnMetaByDefault(() =>
        {
            using var trainer = new Trainer(model, strategy, options);
            var result = trainer.Fit(data, data);
            Assert.Equal(16, result!.Count);
            var trace = new TokenReductionTrace();
            using var images = ImageBatch.Of(new[] { pixels[..256] }, Array.Empty<float[]>(), null, data.Format).ToTensor(model.Device);
            using var logits = model.Forward(images, strategy, trace);
            Assert.Equal(DeviceType.CPU, logits.device_type);
        });
    }

    [Fact]
    public void AnMlNetFitAndTheClassifiersScoringAndZipCreateNothingOffTheModelsDevice()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = _data.Data(context);
        OnMetaByDefault(() =>
        {
            var model = _data.Prepare(context)
                .Append(context.MulticlassClassification.Trainers.LifeRegressionSlimming(_data.Recipe(new LifeRegressionSlimmingTrainer.Options { MaxEpoch = 1, TokenMaskColumnName = "Mask" })))
                .Fit(train);
            Assert.NotEmpty(VisionTransformerClassifierTests.Score(context, model, test));
            var path = Path.Combine(_data.Root, "device.zip");
            context.Model.Save(model, train.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _);
            Assert.NotEmpty(VisionTransformerClassifierTests.Score(context, loaded, test));
        });
    }

    /// <summary>
    /// The parts that libtorch's <c>meta</c> device runs (shapes only, no data), with the model placed there: what the
    /// library derives from the model lands on the model's device, and the CPU-only inputs (generators, host buffers)
    /// are moved there. (A whole forward pass cannot run on <c>meta</c>: libtorch 2.10 has no Meta kernel for
    /// <c>index_select</c> or <c>layer_norm</c>.)
    /// </summary>
    [Fact]
    public void WhatTheLibraryDerivesFromAModelFollowsItToAnotherDevice()
    {
        var meta = new Device("meta");
        using var model = new VisionTransformer(Tiny, seed: 1);
        var strategy = TokenReductionMethods.Create(TokenReductionMethod.Life, Tiny, 0.5)!;
        model.to(meta);
        strategy.PlaceWith(model);
        Assert.All(strategy.Predictor!.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));

        // The distillation teacher: a copy on the model's device.
        using (var trainer = new Trainer(model, strategy, new TrainerOptions { Objective = new IdleVitObjective() }))
        {
            Assert.All(trainer.Teacher!.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        }

        // Drop path draws on the CPU (where TorchSharp's generators are) and moves the decisions to the branch's device.
        var block = model.Blocks[1];
        model.SeedStochasticDepth(5);
        block.train();
        using (var x = zeros(4, 17, 32, device: meta))
        using (var branch = ones(4, 17, 32, device: meta))
        using (var sum = block.Residual(x, branch))
        {
            Assert.Equal(DeviceType.META, sum.device_type);
        }

        // A batch, its labels and targets, and the clipped gradient norm (mixing uses flip, which has no Meta kernel).
        var batch = ImageBatch.Of(new[] { new byte[256], new byte[256] }, Array.Empty<float[]>(), new[] { 1, 3 }, new ImageInputFormat(16, 1, new[] { 0.3f }, new[] { 0.25f }));
        using var images = batch.ToTensor(meta);
        using var labels = batch.LabelTensor(meta);
        using var targets = SoftTargetCrossEntropy.Targets(batch.Labels, 4, 0.1, meta);
        using var norm = Trainer.ClipGradients(new[] { ones(3, device: meta), ones(2, 2, device: meta) }, 1, meta);
        Assert.All(new[] { images, labels, targets, norm }, t => Assert.Equal(DeviceType.META, t.device_type));
    }

    private static void OnMetaByDefault(Action action)
    {
        var previous = get_default_device();
        set_default_device(new Device("meta"));
        try
        {
            action();
        }
        finally
        {
            set_default_device(previous);
        }
    }
}
