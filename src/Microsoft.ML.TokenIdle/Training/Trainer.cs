using System.Diagnostics;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Training.Augmentation;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;
using Microsoft.ML.TokenIdle.Training.Optimizers;
using Microsoft.ML.TokenIdle.Training.Schedules;

namespace Microsoft.ML.TokenIdle.Training;

/// <summary>
/// Trains a ViT, with or without a token-reduction method: epochs of shuffled mini-batches with
/// augmentation, the objective of <see cref="TrainerOptions.Objective"/> (a frozen copy of the
/// starting model is the teacher when it distils), AdamW under a cosine schedule, gradient clipping,
/// validation after every epoch, checkpoints written atomically, resume, cancellation. Equal seeds
/// give equal runs, and a resumed run continues exactly as an uninterrupted one.
/// </summary>
public sealed class Trainer
{
    private const string PredictorPrefix = "life_predictor.";
    private readonly VisionTransformer _model;
    private readonly TokenReductionStrategy? _strategy;
    private readonly TrainerOptions _options;
    private readonly LifePredictor? _predictor;
    private readonly VisionTransformer? _teacher;
    private readonly AdamW _optimizer;
    private int _epoch;
    private double _bestTop1 = -1;

    /// <summary>Prepares training of <paramref name="model"/> under <paramref name="strategy"/> (null: the full model).</summary>
    public Trainer(VisionTransformer model, TokenReductionStrategy? strategy, TrainerOptions options)
    {
        options.Validate();
        _model = model;
        _strategy = strategy;
        _options = options;
        _predictor = (strategy?.Selector as LifeRegressionSelector)?.Predictor;
        if (options.Stage != TrainingStage.All && _predictor is null)
        {
            throw new ArgumentException($"training stage {options.Stage} needs a life-regression method (it has a predictor to train or freeze)");
        }

        if (options.Objective.NeedsTeacher)
        {
            _teacher = new VisionTransformer(model.Config);
            _teacher.LoadStateDict(model.StateDict(), "the student's starting weights");
        }

        var trainable = options.Stage switch
        {
            TrainingStage.PredictorOnly => PredictorParameters(),
            TrainingStage.BackboneOnly => model.NamedParameters(),
            _ => model.NamedParameters().Concat(PredictorParameters()),
        };
        _optimizer = new AdamW(trainable.ToList()) { WeightDecay = options.WeightDecay };
    }

    /// <summary>Epochs completed so far (after a resume, those of the checkpoint).</summary>
    public int CompletedEpochs => _epoch;

    /// <summary>Whether the last <see cref="Fit"/> ended early because validation stopped improving.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>The parameters a checkpoint holds: the model's (timm names) and the predictor's under <c>life_predictor.</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> CheckpointParameters() => _model.NamedParameters().Concat(PredictorParameters());

    /// <summary>
    /// Continues from a checkpoint written by <see cref="Fit"/> (weights, predictor, optimizer, epoch).
    /// Build the trainer from the same starting weights as the interrupted run: they are the teacher.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint does not match the model, method or stage.</exception>
    public void Resume(string checkpointPath)
    {
        var state = SafetensorsFile.Read(checkpointPath).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
        var epoch = state.TryGetValue("trainer.epoch", out var saved) ? (int)saved.Data[0] : throw new InvalidDataException($"'{checkpointPath}' is not a training checkpoint (no 'trainer.epoch')");

        // The learning-rate schedule and the data order depend on the run's length and batch size.
        foreach (var (key, value, option) in new[] { ("trainer.epochs", _options.Epochs, "Epochs"), ("trainer.batch_size", _options.BatchSize, "BatchSize") })
        {
            if (state.TryGetValue(key, out var written) && (int)written.Data[0] != value)
            {
                throw new InvalidDataException($"'{checkpointPath}' was written by a run with {option} = {(int)written.Data[0]}, this one has {value}; resume with the same value");
            }
        }

        _model.LoadStateDict(state.Where(kv => IsModelKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value), checkpointPath);
        if (_predictor is not null)
        {
            _predictor.LoadStateDict(state.Where(kv => kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[PredictorPrefix.Length..], kv => kv.Value), checkpointPath);
        }

        _optimizer.LoadState(state, checkpointPath);
        _epoch = epoch;
        _bestTop1 = state.TryGetValue("trainer.best_top1", out var best) ? best.Data[0] : -1;
    }

    /// <summary>Trains the remaining epochs; validates after each when <paramref name="validation"/> is given.</summary>
    /// <exception cref="TrainingDivergedException">The loss or gradient norm became NaN or infinite; the last checkpoint is kept.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the last checkpoint is kept.</exception>
    public EvaluationResult? Fit(ImageDataset train, ImageDataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = _options;
        if (o.EarlyStopping is not null && validation is null)
        {
            throw new ArgumentException("early stopping needs a validation set");
        }

        if (train.Classes != _model.Config.NumClasses || train.Channels != _model.Config.InChannels || train.Height != _model.Config.ImageSize || train.Width != _model.Config.ImageSize)
        {
            throw new ArgumentException($"the training set ({train.Classes} classes, {train.Channels}x{train.Height}x{train.Width}) does not fit the model ({_model.Config.NumClasses} classes, {_model.Config.InChannels}x{_model.Config.ImageSize}x{_model.Config.ImageSize})");
        }

        var stepsPerEpoch = train.Count / o.BatchSize;
        if (stepsPerEpoch < 1)
        {
            throw new ArgumentException($"the training set has {train.Count} images, fewer than one batch of {o.BatchSize}");
        }

        var schedule = new CosineSchedule(o.LearningRate, (long)o.Epochs * stepsPerEpoch, (long)Math.Round(o.WarmupEpochs * stepsPerEpoch), o.MinLearningRate);
        var crop = new RandomResizedCrop { MinScale = o.MinCropScale, HorizontalFlip = o.HorizontalFlip };
        var mixing = new MixupCutmix { MixupAlpha = o.MixupAlpha, CutmixAlpha = o.CutmixAlpha };
        var trainable = _optimizer.Parameters.Select(p => p.Value).ToList();
        EvaluationResult? last = null;
        var (bestScore, staleEpochs) = (double.NaN, 0);
        StoppedEarly = false;
        var run = Stopwatch.StartNew();
        var totalSteps = (long)o.Epochs * stepsPerEpoch;
        var stepsAtStart = (long)_epoch * stepsPerEpoch;
        TimeSpan Remaining(long stepsDone) => TimeSpan.FromSeconds(run.Elapsed.TotalSeconds / Math.Max(1, stepsDone - stepsAtStart) * (totalSteps - stepsDone));
        for (; _epoch < o.Epochs; _epoch++)
        {
            var order = Permutation(train.Count, Seeds.Derive(o.Seed, 1, _epoch));
            var epochWatch = Stopwatch.StartNew();
            var lossSum = 0.0;
            TrainingProgress? latest = null;
            for (var step = 0; step < stepsPerEpoch; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                var globalStep = (long)_epoch * stepsPerEpoch + step;
                var random = new Random(Seeds.Derive(o.Seed, 2, globalStep));
                _model.SeedStochasticDepth(Seeds.Derive(o.Seed, 3, globalStep));
                var indices = new ArraySegment<int>(order, step * o.BatchSize, o.BatchSize);
                var images = train.Images(indices);
                if (o.MinCropScale < 1 || o.HorizontalFlip)
                {
                    images = crop.Apply(images, random);
                }

                var targets = SoftTargetCrossEntropy.Targets(train.LabelsOf(indices), train.Classes, o.LabelSmoothing);
                mixing.Apply(images, targets, random);
                var loss = Step(images, targets, schedule.RateAt(globalStep), trainable, $"epoch {_epoch + 1} step {step + 1}");
                lossSum += loss;
                latest = new TrainingProgress(_epoch, o.Epochs, step, stepsPerEpoch, lossSum / (step + 1), schedule.RateAt(globalStep),
                    (step + 1) * o.BatchSize / epochWatch.Elapsed.TotalSeconds, Remaining(globalStep + 1), false, null);
                progress?.Report(latest);
            }

            last = validation is null ? null : Evaluator.Evaluate(_model, _strategy, validation, o.EvaluationBatchSize);
            SaveCheckpoints(last);
            progress?.Report(latest! with { Remaining = Remaining((long)(_epoch + 1) * stepsPerEpoch), EpochCompleted = true, Validation = last });
            if (last is not null && o.EarlyStopping is { } stopping)
            {
                var score = stopping.Score(last);
                (bestScore, staleEpochs) = double.IsNaN(bestScore) || score - bestScore > stopping.MinDelta ? (score, 0) : (bestScore, staleEpochs + 1);
                if (staleEpochs >= stopping.Patience)
                {
                    StoppedEarly = true;
                    _epoch++;
                    break;
                }
            }
        }

        return last;
    }

    private double Step(Tensor images, Tensor targets, double learningRate, IReadOnlyList<Tensor> trainable, string where)
    {
        (Tensor Logits, Tensor Feature)? teacher = null;
        if (_teacher is not null)
        {
            teacher = TensorScope.Run(() =>
            {
                var tokens = _teacher.ForwardTokens(images);
                var feature = _teacher.ClassFeature(tokens);
                return (_teacher.Head.Forward(feature), feature);
            }, t => new[] { t.Item1, t.feature });
        }

        _model.ZeroGrad();
        _predictor?.ZeroGrad();
        _model.Train(true);
        double value;
        using (var tape = GradientTape.Begin())
        {
            var trace = new TokenReductionTrace();
            var tokens = _strategy is null ? _model.ForwardTokens(images) : _strategy.ForwardTokens(_model, images, trace).Tokens;
            var feature = _model.ClassFeature(tokens);
            var loss = _options.Objective.Compute(_model.Head.Forward(feature), feature, targets, teacher, trace);
            value = loss.Total[0];
            if (!double.IsFinite(value))
            {
                throw Diverged($"the loss became {value} at {where}");
            }

            tape.Backward(loss.Total);
        }

        var norm = _options.ClipGradNorm > 0
            ? GradientClipping.ClipByGlobalNorm(trainable, _options.ClipGradNorm)
            : GradientClipping.GlobalNorm(trainable);
        if (!double.IsFinite(norm))
        {
            throw Diverged($"the gradient norm became {norm} at {where}");
        }

        _optimizer.Update(learningRate);
        return value;
    }

    private TrainingDivergedException Diverged(string what)
    {
        var kept = _options.CheckpointDirectory is { } dir && File.Exists(Path.Combine(dir, "last.ckpt.safetensors"))
            ? $"; the last good checkpoint is '{Path.Combine(dir, "last.ckpt.safetensors")}'"
            : "; no checkpoint was written yet";
        return new TrainingDivergedException($"training diverged: {what} (weights are those before this step{kept}). Lower the learning rate or raise the clipping.");
    }

    private void SaveCheckpoints(EvaluationResult? validation)
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
        var counters = new[]
        {
            KeyValuePair.Create("trainer.epoch", Tensor.FromArray(new[] { (float)(_epoch + 1) }, 1)),
            KeyValuePair.Create("trainer.best_top1", Tensor.FromArray(new[] { (float)_bestTop1 }, 1)),
            KeyValuePair.Create("trainer.epochs", Tensor.FromArray(new[] { (float)_options.Epochs }, 1)),
            KeyValuePair.Create("trainer.batch_size", Tensor.FromArray(new[] { (float)_options.BatchSize }, 1)),
        };
        SafetensorsFile.Write(Path.Combine(dir, "last.ckpt.safetensors"), CheckpointParameters().Concat(_optimizer.StateTensors()).Concat(counters));
        if (improved || validation is null)
        {
            _model.SaveWeights(Path.Combine(dir, "best.safetensors"));
            _predictor?.SaveWeights(Path.Combine(dir, "best.predictor.safetensors"));
            AtomicFile.Write(Path.Combine(dir, "config.json"), stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(_model.Config.ToJson())));
        }
    }

    private IEnumerable<KeyValuePair<string, Tensor>> PredictorParameters() => _predictor?.NamedParameters(PredictorPrefix) ?? Enumerable.Empty<KeyValuePair<string, Tensor>>();

    private static bool IsModelKey(string key) => !key.StartsWith(PredictorPrefix, StringComparison.Ordinal) && !key.StartsWith("adamw.", StringComparison.Ordinal) && !key.StartsWith("trainer.", StringComparison.Ordinal);

    private static int[] Permutation(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }
}
