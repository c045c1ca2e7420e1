using Microsoft.ML.TokenIdle.Engine;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// One training run as every door runs it — the ML.NET trainers and <c>tokenidle train</c>: every option checked before
/// anything is read or fetched; the backbone's architecture read (for a Hub checkpoint its small config only) and the
/// method's schedule checked against it; then, given the data, the weights fetched and loaded (a head for other classes
/// replaced), the model placed on its device, the method's stages trained (life regression: predictor, then backbone)
/// with the recipe of the options, and everything freed again if any of it fails.
/// </summary>
internal sealed class TrainingRun
{
    private readonly VisionTransformerTrainerBase.OptionsBase _options;
    private readonly Action<string> _info;

    /// <summary>Checks the options and reads the backbone's architecture; <paramref name="info"/> hears which backbone, and of downloads.</summary>
    /// <param name="options">The recipe.</param>
    /// <param name="info">Where progress messages go (ML.NET's channel, the CLI's standard error).</param>
    /// <exception cref="ArgumentException">An option is out of range or contradicts another, or the schedule does not fit the architecture.</exception>
    /// <exception cref="Models.Hub.HubException">A Hub backbone's config cannot be had.</exception>
    public TrainingRun(VisionTransformerTrainerBase.OptionsBase options, Action<string> info)
    {
        options.Validate();
        (_options, _info) = (options, info);
        Backbone = options.ChosenBackbone();
        Precision = options.ChosenPrecision();
        if (options.MaxEpoch == 0 && !Backbone.IsPretrained)
        {
            throw new ArgumentException($"MaxEpoch = 0 scores pretrained weights as they are, but the backbone {Backbone} has none: train it (MaxEpoch >= 1) or choose a backbone with weights");
        }

        info($"backbone: {Backbone}");
        var config = Backbone.LoadConfig(info);
        Architecture = config with { ImageSize = options.ImageSize ?? config.ImageSize, DropPathRate = options.DropPathRate ?? config.DropPathRate };
        Architecture.Validate();
        options.Method?.Validate(Architecture.Depth);
    }

    /// <summary>The backbone the options choose.</summary>
    public Backbone Backbone { get; }

    /// <summary>The precision the model scores in (training products: bfloat16 for it, else float32).</summary>
    public Precision Precision { get; }

    /// <summary>The backbone's architecture at the options' image size and drop path, with its own classes and input convention.</summary>
    public VisionTransformerConfig Architecture { get; }

    /// <summary>A test seam: hears of each model as soon as it is built (to check a failed run frees it).</summary>
    internal Action<VisionTransformer>? ModelBuilt { get; init; }

    /// <summary>The backbone's weights for <paramref name="classes"/> classes, untrained (<c>MaxEpoch = 0</c>): its head must fit them.</summary>
    /// <exception cref="ArgumentException">The backbone's head is for another number of classes.</exception>
    public (VisionTransformer Model, IReducedForward? Reduction) Pretrained(int classes, ImageInputFormat format, Device device, int seed)
    {
        var result = Build(classes, format, device, seed, (model, reduction, headReplaced) => headReplaced
            ? throw new ArgumentException($"MaxEpoch = 0 scores pretrained weights as they are, but the head of {Backbone} is not for the label's {classes} classes: train (MaxEpoch >= 1) or give weights with a head for them")
            : new TrainingResult(model, reduction, null, 0, 0, false));
        return (result.Model, result.Reduction);
    }

    /// <summary>
    /// Fetches the weights, builds the model on <paramref name="device"/> and trains it on <paramref name="train"/> (validating
    /// on <paramref name="validation"/>); <paramref name="progress"/> makes the progress sink for the built model and method,
    /// <paramref name="resume"/> continues the main stage from a checkpoint.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit, or a resume is asked of two stages at once.</exception>
    /// <exception cref="InsufficientMemoryException">The step's estimated memory exceeds what the device has available; checked before the weights are fetched.</exception>
    public TrainingResult Train(ImageSource train, ImageSource? validation, Device device, int seed, Func<VisionTransformerConfig, IReducedForward?, IProgress<TrainingProgress>>? progress = null, CancellationToken cancellation = default, string? resume = null)
        => Build(train.Classes, train.Format, device, seed, (model, reduction, _) => Fit(model, reduction, train, validation, seed, progress?.Invoke(model.Config, reduction), cancellation, resume), training: true);

    private TrainingResult Build(int classes, ImageInputFormat format, Device device, int seed, Func<VisionTransformer, IReducedForward?, bool, TrainingResult> use, bool training = false)
    {
        // The model's config records the input convention its training data used, so scoring reproduces it.
        var config = Architecture with { NumClasses = classes, Mean = format.Mean.Select(m => (double)m).ToArray(), Std = format.Std.Select(s => (double)s).ToArray() };
        config.Validate();
        var givenPredictor = (_options.Method as LifeRegressionOptions)?.Predictor;
        var reduction = _options.Method?.CreateForward(config, training);
        if (training)
        {
            // Before anything is fetched or allocated: a step that cannot fit is refused in seconds, not killed minutes later.
            var objective = _options.Objective;
            var estimate = MemoryEstimate.ForTraining(config, reduction, _options.BatchSize, objective.NeedsTeacher, objective.ComputesCutLoss);
            var available = AvailableMemory.For(device);
            _info($"memory: a training step needs about {MemoryEstimate.Gigabytes(estimate.Bytes)} GB ({estimate}); {(available is { } a ? MemoryEstimate.Gigabytes(a) + " GB" : "an unknown amount")} available");
            estimate.EnsureFits(available, "the image size (ImageSize) or the batch size (BatchSize)");
        }

        VisionTransformer? model = null;
        try
        {
            var weights = Backbone.LoadWeights(_info);
            var headReplaced = false;
            model = weights is null ? new VisionTransformer(config, seed) : LoadPretrained(config, weights, seed, out headReplaced);
            ModelBuilt?.Invoke(model);
            model.to(device);
            reduction?.PlaceWith(model);
            return use(model, reduction, headReplaced);
        }
        catch
        {
            // A failed run leaves nothing allocated behind it: the model, and a predictor it made itself.
            model?.Dispose();
            if (reduction?.Predictor is { } made && !ReferenceEquals(made, givenPredictor))
            {
                made.Dispose();
            }

            throw;
        }
    }

    private TrainingResult Fit(VisionTransformer model, IReducedForward? reduction, ImageSource train, ImageSource? validation, int seed, IProgress<TrainingProgress>? progress, CancellationToken cancellation, string? resume)
    {
        var recipe = _options.ToTrainerOptions(train.Count, seed, Precision);
        if (reduction?.Predictor is not null && _options is LifeRegressionSlimmingTrainer.Options life)
        {
            if (life.Stage is { } stage)
            {
                recipe = recipe with { Stage = stage };
            }
            else
            {
                if (resume is not null)
                {
                    throw new ArgumentException("a resumed life-regression run continues one stage: give the stage (Stage, --stage) of the run it continues");
                }

                _info($"life regression stage 1: training the predictor for {life.PredictorEpochs} epoch(s)");
                var stage1 = recipe with
                {
                    Epochs = life.PredictorEpochs, MaxSteps = null, LearningRate = life.PredictorLearningRate, MinLearningRate = Math.Min(recipe.MinLearningRate, life.PredictorLearningRate),
                    WeightDecay = 0, WarmupEpochs = 0, EarlyStopping = null, CheckpointDirectory = null, CheckpointSteps = null, Stage = TrainingStage.PredictorOnly,
                    Objective = IdleVitObjective.CrossEntropyOnly,
                };
                using (var predictorStage = new Trainer(model, reduction, stage1))
                {
                    predictorStage.Fit(train, null, progress, cancellation);
                }

                _info($"life regression stage 2: training the backbone for {(recipe.MaxSteps is { } steps ? $"{steps} step(s)" : $"{recipe.Epochs} epoch(s)")}");
                recipe = recipe with { Stage = TrainingStage.BackboneOnly };
            }
        }

        using var trainer = new Trainer(model, reduction, recipe);
        if (resume is not null)
        {
            trainer.Resume(resume);
            var within = trainer.StepsIntoEpoch > 0 ? $", {trainer.StepsIntoEpoch} steps into epoch {trainer.CompletedEpochs + 1}" : string.Empty;
            var of = recipe.MaxSteps is null ? $" of {recipe.Epochs}" : string.Empty;
            _info($"resuming after epoch {trainer.CompletedEpochs}{of}{within} ({trainer.CompletedSteps} steps in all) from '{resume}'");
        }

        var last = trainer.Fit(train, validation, progress, cancellation);
        return new TrainingResult(model, reduction, last, trainer.CompletedEpochs, trainer.CompletedSteps, trainer.StoppedEarly);
    }

    /// <summary>
    /// Builds the model from pretrained weights, checked against the config before it is built; a classifier head for
    /// another number of classes is replaced by the fresh one (<paramref name="headReplaced"/>).
    /// </summary>
    private VisionTransformer LoadPretrained(VisionTransformerConfig config, string path, int seed, out bool headReplaced)
    {
        var entries = SafetensorsFile.Read(path);
        var shapes = entries.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        headReplaced = shapes.TryGetValue("head.weight", out var head) && head.Length == 2 && head[0] != config.NumClasses;
        if (headReplaced)
        {
            _info($"'{path}' has a head for {head![0]} classes; training a new head for {config.NumClasses}");
            (shapes["head.weight"], shapes["head.bias"]) = (new long[] { config.NumClasses, config.EmbedDim }, new long[] { config.NumClasses });
        }

        VisionTransformer.CheckWeights(config, shapes, path);
        var model = new VisionTransformer(config, seed);
        try
        {
            using var scope = NewDisposeScope();
            var state = entries.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
            if (headReplaced)
            {
                var own = model.state_dict();
                (state["head.weight"], state["head.bias"]) = (own["head.weight"], own["head.bias"]);
            }

            model.LoadStateDict(state, path);
            ModuleWeights.RequireFinite(model, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

/// <summary>What a <see cref="TrainingRun"/> made: the trained model and method, the last validation, and how far it went.</summary>
/// <param name="Model">The trained network, on its device, in training's float32 weights.</param>
/// <param name="Reduction">The method (null: the full model).</param>
/// <param name="Validation">The last validation, or null without a validation set.</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
internal sealed record TrainingResult(VisionTransformer Model, IReducedForward? Reduction, EvaluationResult? Validation, int Epochs, long Steps, bool StoppedEarly);
