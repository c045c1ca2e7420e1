using System.Diagnostics;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Training.Augmentation;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;
using Microsoft.ML.TokenIdle.Training.Optimizers;
using Microsoft.ML.TokenIdle.Training.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training;

/// <summary>
/// Trains a ViT, with or without a token-reduction method, on libtorch: epochs of shuffled mini-batches streamed
/// from an <see cref="ImageSource"/> by the data pipeline (decode workers, bounded prefetch), with augmentation, the objective of <see cref="TrainerOptions.Objective"/> (a frozen copy of the starting model is the
/// teacher when it distils), libtorch's AdamW under a cosine schedule, gradient clipping, validation after every
/// epoch, checkpoints written atomically, resume, cancellation. Each step runs in its own dispose scope, so native
/// memory does not grow with the steps. Equal seeds give equal runs, and a resumed run continues exactly as an
/// uninterrupted one.
/// </summary>
public sealed class Trainer : IDisposable
{
    private const string PredictorPrefix = "life_predictor.";
    private const string OptimizerKey = "trainer.optimizer_state";
    private readonly VisionTransformer _model;
    private readonly IReducedForward? _method;
    private readonly TrainerOptions _options;
    private readonly LifePredictor? _predictor;
    private readonly VisionTransformer? _teacher;
    private readonly List<KeyValuePair<string, Parameter>> _trainable;
    private readonly AdamW _optimizer;
    private int _epoch;
    private int _stepInEpoch;
    private int _rowsInEpoch;
    private long _globalStep;
    private double _lossSum;
    private double _bestTop1 = -1;

    /// <summary>Prepares training of <paramref name="model"/> under <paramref name="method"/> (null: the full model).</summary>
    public Trainer(VisionTransformer model, IReducedForward? method, TrainerOptions options)
    {
        options.Validate();
        if (model.ClsToken.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"training keeps float32 weights (Precision chooses the products' format), but the model is {model.ClsToken.dtype}: train the float32 network");
        }

        _model = model;
        _method = method;
        _options = options;
        _predictor = method?.Predictor;
        if (options.Stage != TrainingStage.All && _predictor is null)
        {
            throw new ArgumentException($"training stage {options.Stage} needs a life-regression method (it has a predictor to train or freeze)");
        }

        if (options.Objective.NeedsTeacher)
        {
            _teacher = model.FrozenCopy();
        }

        _trainable = options.Stage switch
        {
            TrainingStage.PredictorOnly => PredictorParameters().ToList(),
            TrainingStage.BackboneOnly => ModelParameters().ToList(),
            _ => ModelParameters().Concat(PredictorParameters()).ToList(),
        };
        _optimizer = AdamWGroups.Create(_trainable, options.WeightDecay);
    }

    /// <summary>Epochs completed so far (after a resume, those of the checkpoint).</summary>
    public int CompletedEpochs => _epoch;

    /// <summary>Optimiser steps taken so far, over all epochs (after a resume, counting the checkpoint's).</summary>
    public long CompletedSteps => _globalStep;

    /// <summary>Steps taken in the current, unfinished epoch (after a resume from a mid-epoch checkpoint: its own).</summary>
    public int StepsIntoEpoch => _stepInEpoch;

    /// <summary>Whether the last <see cref="Fit"/> ended early because validation stopped improving.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>The parameters a checkpoint holds: the model's (timm names) and the predictor's under <c>life_predictor.</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> CheckpointParameters()
        => _model.NamedParameters().Concat(_predictor?.NamedParameters(PredictorPrefix) ?? Enumerable.Empty<KeyValuePair<string, Tensor>>());

    /// <summary>
    /// Continues from a checkpoint written by <see cref="Fit"/> (weights, predictor, optimizer, and the position in the
    /// run: epoch, step and rows read, also within an epoch). Build the trainer from the same starting weights as the
    /// interrupted run: they are the teacher.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint does not match the model, method or stage.</exception>
    public void Resume(string checkpointPath)
    {
        using var scope = NewDisposeScope();
        var entries = SafetensorsFile.Read(checkpointPath);
        int Counter(string key) => entries.TryGetValue(key, out var entry) ? (int)entry.ToTensor().item<float>() : throw new InvalidDataException($"'{checkpointPath}' is not a training checkpoint (no '{key}')");
        int Optional(string key) => entries.ContainsKey(key) ? Counter(key) : 0;
        var epoch = Counter("trainer.epoch");

        // The learning-rate schedule and the data order depend on the run's length and batch size.
        var length = _options.MaxSteps is { } steps ? ("trainer.max_steps", (int)Math.Min(int.MaxValue, steps), "MaxSteps") : ("trainer.epochs", _options.Epochs, "Epochs");
        foreach (var (key, value, option) in new[] { length, ("trainer.batch_size", _options.BatchSize, "BatchSize") })
        {
            if (Optional(key) != value)
            {
                throw new InvalidDataException($"'{checkpointPath}' was written by a run with {(Optional(key) == 0 ? $"no {option}" : $"{option} = {Optional(key)}")}, this one has {value}; resume with the same value");
            }
        }

        var state = entries.Where(kv => kv.Key != OptimizerKey).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
        _model.LoadStateDict(state.Where(kv => !kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal) && !kv.Key.StartsWith("trainer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value), checkpointPath);
        _predictor?.LoadStateDict(state.Where(kv => kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[PredictorPrefix.Length..], kv => kv.Value), checkpointPath);
        if (!entries.TryGetValue(OptimizerKey, out var optimizerState) || optimizerState.DType != "U8")
        {
            throw new InvalidDataException($"'{checkpointPath}' holds no optimizer state ('{OptimizerKey}')");
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(optimizerState.Bytes.ToArray()));
            _optimizer.load_state_dict(reader);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{checkpointPath}': the optimizer state does not fit this run ({e.Message})", e);
        }

        (_epoch, _stepInEpoch, _rowsInEpoch, _globalStep) = (epoch, Optional("trainer.step_in_epoch"), Optional("trainer.rows_in_epoch"), Optional("trainer.global_step"));
        _lossSum = entries.TryGetValue("trainer.epoch_loss_sum", out var loss) ? loss.ToTensor().item<float>() : 0;
        _bestTop1 = entries.TryGetValue("trainer.best_top1", out var best) ? best.ToTensor().item<float>() : -1;
    }

    /// <summary>
    /// Trains the remaining epochs (or steps, with <see cref="TrainerOptions.MaxSteps"/>), reading
    /// <paramref name="train"/> through the data pipeline in a fresh seeded order each epoch; validates after each
    /// epoch (and at the last step) when <paramref name="validation"/> is given.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss or gradient norm became NaN or infinite; the last checkpoint is kept.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the last checkpoint is kept.</exception>
    /// <exception cref="InvalidDataException">An image could not be read (and the source does not skip such rows); the last checkpoint is kept.</exception>
    public EvaluationResult? Fit(ImageSource train, ImageSource? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = _options;
        if (o.EarlyStopping is not null && validation is null)
        {
            throw new ArgumentException("early stopping needs a validation set");
        }

        if (o.CheckpointDirectory is { } workspace)
        {
            AtomicFile.RemoveLeftovers(workspace);
        }

        var c = _model.Config;
        var f = train.Format;
        if (train.Classes != c.NumClasses || f.Channels != c.InChannels || f.Size != c.ImageSize)
        {
            throw new ArgumentException($"the training set ({train.Classes} classes, {f.Channels}x{f.Size}x{f.Size}) does not fit the model ({c.NumClasses} classes, {c.InChannels}x{c.ImageSize}x{c.ImageSize})");
        }

        var stepsPerEpoch = train.Count / o.BatchSize;
        if (stepsPerEpoch < 1)
        {
            throw new ArgumentException($"the training set has {train.Count} images, fewer than one batch of {o.BatchSize}");
        }

        var (totalSteps, epochs) = Length(stepsPerEpoch);
        if (_globalStep == 0 && _epoch > 0)
        {
            // A checkpoint of an earlier build records whole epochs only.
            _globalStep = (long)_epoch * stepsPerEpoch;
        }

        var schedule = new CosineSchedule(o.LearningRate, totalSteps, Math.Min(totalSteps, (long)Math.Round(o.WarmupEpochs * stepsPerEpoch)), o.MinLearningRate);
        var crop = new RandomResizedCrop { MinScale = o.MinCropScale, HorizontalFlip = o.HorizontalFlip };
        var mixing = new MixupCutmix { MixupAlpha = o.MixupAlpha, CutmixAlpha = o.CutmixAlpha };
        var device = _model.Device;
        EvaluationResult? last = null;
        var (bestScore, staleEpochs) = (double.NaN, 0);
        StoppedEarly = false;
        var run = Stopwatch.StartNew();
        var stepsAtStart = _globalStep;
        TimeSpan Remaining() => TimeSpan.FromSeconds(run.Elapsed.TotalSeconds / Math.Max(1, _globalStep - stepsAtStart) * (totalSteps - _globalStep));
        using var frozen = new FrozenParameters(ModelParameters().Concat(PredictorParameters()).Select(p => p.Value).Except(_trainable.Select(p => p.Value)));
        while (_epoch < epochs && _globalStep < totalSteps)
        {
            var order = train.Order(Seeds.Derive(o.Seed, 1, _epoch));
            var epochWatch = Stopwatch.StartNew();
            var stepsThisSession = 0;
            TrainingProgress? latest = null;
            var epochEnded = false;
            // Each row is cropped and flipped from its decoded source image as the pipeline reads it (seeded by row and epoch).
            var augmentation = crop.Enabled ? new RowAugmentation(crop, o.Seed, _epoch) : null;
            using (var batches = new BatchReader(train, order, _rowsInEpoch, o.BatchSize, dropLast: true, o.Data, augmentation))
            {
                while (_globalStep < totalSteps)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var batch = _stepInEpoch < stepsPerEpoch ? batches.Next() : null;
                    if (batch is null)
                    {
                        epochEnded = true;
                        break;
                    }

                    var rate = schedule.RateAt(_globalStep);
                    using (var scope = NewDisposeScope())
                    {
                        var random = new Random(Seeds.Derive(o.Seed, 2, _globalStep));
                        _model.SeedStochasticDepth(Seeds.Derive(o.Seed, 3, _globalStep));
                        var images = batch.ToTensor(device);
                        if (augmentation is not null && batch.HoldsValues)
                        {
                            // Inputs given already normalised at the model's size have no other source: cropped as a batch.
                            images = crop.Apply(images, random);
                        }

                        var targets = SoftTargetCrossEntropy.Targets(batch.Labels, train.Classes, o.LabelSmoothing, device);
                        mixing.Apply(images, targets, random);
                        _lossSum += Step(images, targets, rate, $"epoch {_epoch + 1} step {_stepInEpoch + 1}");
                    }

                    (_stepInEpoch, _globalStep, _rowsInEpoch) = (_stepInEpoch + 1, _globalStep + 1, batches.Consumed);
                    stepsThisSession++;
                    if (o.CheckpointSteps is { } every && _globalStep % every == 0 && _stepInEpoch < stepsPerEpoch && _globalStep < totalSteps)
                    {
                        SaveCheckpoints(null, endOfEpoch: false);
                    }

                    var seconds = epochWatch.Elapsed.TotalSeconds;
                    latest = new TrainingProgress(_epoch, epochs, _stepInEpoch - 1, stepsPerEpoch, _lossSum / _stepInEpoch, rate,
                        stepsThisSession * o.BatchSize / seconds, Remaining(), false, null)
                    {
                        DataImagesPerSecond = batches.DecodeRate,
                        DataWaitFraction = seconds > 0 ? Math.Min(1, batches.Waited.TotalSeconds / seconds) : 0,
                    };
                    progress?.Report(latest);
                }

                epochEnded |= _stepInEpoch >= stepsPerEpoch;
            }

            using (MixedPrecision.Training(_options.Precision))
            {
                last = validation is null ? null : Evaluator.Evaluate(_model, _method, validation, o.EvaluationBatchSize, o.Data);
            }

            if (epochEnded)
            {
                (_epoch, _stepInEpoch, _rowsInEpoch, _lossSum) = (_epoch + 1, 0, 0, 0);
            }

            SaveCheckpoints(last, endOfEpoch: true);
            if (latest is not null)
            {
                progress?.Report(latest with { Remaining = Remaining(), EpochCompleted = true, Validation = last });
            }

            if (epochEnded && last is not null && o.EarlyStopping is { } stopping)
            {
                var score = stopping.Score(last);
                (bestScore, staleEpochs) = double.IsNaN(bestScore) || score - bestScore > stopping.MinDelta ? (score, 0) : (bestScore, staleEpochs + 1);
                if (staleEpochs >= stopping.Patience)
                {
                    StoppedEarly = true;
                    break;
                }
            }
        }

        return last;
    }

    /// <summary>One optimiser step on a batch at the recipe's peak learning rate, as <see cref="Fit"/> takes one (<c>tokenidle bench --train</c> times it).</summary>
    internal double Step(Tensor images, Tensor targets)
    {
        using var scope = NewDisposeScope();
        return Step(images, targets, _options.LearningRate, "a benchmark step");
    }

    /// <summary>The run's optimiser steps (the schedule's length) and the epochs they span.</summary>
    private (long Steps, int Epochs) Length(int stepsPerEpoch)
        => _options.MaxSteps is { } steps
            ? (steps, (int)Math.Min(int.MaxValue, (steps + stepsPerEpoch - 1) / stepsPerEpoch))
            : ((long)_options.Epochs * stepsPerEpoch, _options.Epochs);

    private double Step(Tensor images, Tensor targets, double learningRate, string where)
    {
        // The forward pass's products in the training precision; the backward pass follows the types it recorded.
        using var products = MixedPrecision.Training(_options.Precision);
        (Tensor Logits, Tensor Feature)? teacher = null;
        if (_teacher is not null)
        {
            using var _ = no_grad();
            var feature = _teacher.ClassFeature(_teacher.ForwardTokens(images));
            teacher = (_teacher.Logits(feature).to_type(ScalarType.Float32), feature);
        }

        _optimizer.zero_grad();
        _model.train();
        var trace = new TokenReductionTrace(selections: false);
        var tokens = _method is null ? _model.ForwardTokens(images) : _method.FinalTokens(_model, images, trace);
        var studentFeature = _model.ClassFeature(tokens);
        var loss = _options.Objective.Compute(_model.Logits(studentFeature).to_type(ScalarType.Float32), studentFeature, targets, teacher, trace);
        loss.Total.backward();

        // The loss and the gradient norm come to the host together, once per step, and both are checked before the
        // optimiser touches the weights.
        var norm = ClipGradients(_trainable.Select(p => p.Value.grad).OfType<Tensor>().ToList(), _options.ClipGradNorm, _model.Device);
        var read = stack(new[] { loss.Total.detach().to_type(ScalarType.Float32), norm.to_type(ScalarType.Float32) }).cpu().data<float>().ToArray();
        if (!float.IsFinite(read[0]))
        {
            throw Diverged($"the loss became {read[0]} at {where}");
        }

        if (!float.IsFinite(read[1]))
        {
            throw Diverged($"the gradient norm became {read[1]} at {where}");
        }

        AdamWGroups.SetLearningRate(_optimizer, learningRate);
        _optimizer.step();
        return read[0];
    }

    /// <summary>
    /// The global L2 norm of <paramref name="gradients"/> (a scalar on <paramref name="device"/>), after scaling them in
    /// place by max / (norm + 1e-6) where that is below 1, as PyTorch's <c>clip_grad_norm_</c> (no clipping when
    /// <paramref name="maxNorm"/> is 0). Everything stays on the device: nothing is read back.
    /// </summary>
    internal static Tensor ClipGradients(IReadOnlyList<Tensor> gradients, double maxNorm, Device device)
    {
        var norm = gradients.Count == 0 ? zeros(Array.Empty<long>(), device: device) : stack(gradients.Select(g => g.detach().norm()).ToArray()).norm();
        if (maxNorm > 0)
        {
            var scale = (maxNorm / (norm + 1e-6)).clamp_max(1);
            foreach (var g in gradients)
            {
                g.mul_(scale);
            }
        }

        return norm;
    }

    private TrainingDivergedException Diverged(string what)
    {
        var kept = _options.CheckpointDirectory is { } dir && File.Exists(Path.Combine(dir, "last.ckpt.safetensors"))
            ? $"; the last good checkpoint is '{Path.Combine(dir, "last.ckpt.safetensors")}'"
            : "; no checkpoint was written yet";
        return new TrainingDivergedException($"training diverged: {what} (weights are those before this step{kept}). Lower the learning rate or raise the clipping.");
    }

    // Mid-epoch (endOfEpoch false) only the resumable last.ckpt is written; best.safetensors follows validations.
    private void SaveCheckpoints(EvaluationResult? validation, bool endOfEpoch)
    {
        var improved = validation is not null && validation.Top1 > _bestTop1;
        if (improved)
        {
            _bestTop1 = validation!.Top1;
        }

        if (_options.CheckpointDirectory is not { } dir)
        {
            return;
        }

        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        using var optimizerState = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerState, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            _optimizer.save_state_dict(writer);
        }

        var counters = new[]
        {
            // float32 counters are exact below 2^24 steps or rows per epoch.
            Counter("trainer.epoch", _epoch),
            Counter("trainer.step_in_epoch", _stepInEpoch),
            Counter("trainer.rows_in_epoch", _rowsInEpoch),
            Counter("trainer.global_step", _globalStep),
            Counter("trainer.epoch_loss_sum", _lossSum),
            Counter("trainer.best_top1", _bestTop1),
            Counter("trainer.epochs", _options.MaxSteps is null ? _options.Epochs : 0),
            Counter("trainer.max_steps", _options.MaxSteps ?? 0),
            Counter("trainer.batch_size", _options.BatchSize),
            KeyValuePair.Create(OptimizerKey, tensor(optimizerState.ToArray(), device: CPU)),
        };
        SafetensorsFile.Write(Path.Combine(dir, "last.ckpt.safetensors"), CheckpointParameters().Concat(counters));
        if (endOfEpoch && (improved || validation is null))
        {
            _model.SaveWeights(Path.Combine(dir, "best.safetensors"));
            _predictor?.SaveWeights(Path.Combine(dir, "best.predictor.safetensors"));
            AtomicFile.Write(Path.Combine(dir, "config.json"), stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(_model.Config.ToJson())));
        }
    }

    private static KeyValuePair<string, Tensor> Counter(string key, double value) => KeyValuePair.Create(key, tensor(new[] { (float)value }, device: CPU));

    private IEnumerable<KeyValuePair<string, Parameter>> ModelParameters() => _model.named_parameters().Select(p => KeyValuePair.Create(p.name, p.parameter));

    private IEnumerable<KeyValuePair<string, Parameter>> PredictorParameters()
        => _predictor?.named_parameters().Select(p => KeyValuePair.Create(PredictorPrefix + p.name, p.parameter)) ?? Enumerable.Empty<KeyValuePair<string, Parameter>>();

    /// <summary>Parameters a stage does not train take no gradients while it runs (life regression's two stages).</summary>
    private sealed class FrozenParameters : IDisposable
    {
        private readonly List<Parameter> _parameters;

        public FrozenParameters(IEnumerable<Parameter> parameters)
        {
            _parameters = parameters.Where(p => p.requires_grad).ToList();
            _parameters.ForEach(p => p.requires_grad = false);
        }

        public void Dispose() => _parameters.ForEach(p => p.requires_grad = true);
    }

    /// <summary>The frozen copy of the starting weights that distillation reads (null without distillation).</summary>
    internal VisionTransformer? Teacher => _teacher;

    /// <summary>
    /// Frees what the trainer made — the optimiser's state (two moments per parameter) and the teacher copy — now
    /// rather than at finalisation: on CUDA that is device memory. The model it trained stays the caller's.
    /// </summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _teacher?.Dispose();
    }
}
