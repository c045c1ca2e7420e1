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
/// Trains a ViT, with or without a token-reduction method, on libtorch: epochs of shuffled mini-batches with
/// augmentation, the objective of <see cref="TrainerOptions.Objective"/> (a frozen copy of the starting model is the
/// teacher when it distils), libtorch's AdamW under a cosine schedule, gradient clipping, validation after every
/// epoch, checkpoints written atomically, resume, cancellation. Each step runs in its own dispose scope, so native
/// memory does not grow with the steps. Equal seeds give equal runs, and a resumed run continues exactly as an
/// uninterrupted one.
/// </summary>
public sealed class Trainer
{
    private const string PredictorPrefix = "life_predictor.";
    private const string OptimizerKey = "trainer.optimizer_state";
    private readonly VisionTransformer _model;
    private readonly TokenReductionStrategy? _strategy;
    private readonly TrainerOptions _options;
    private readonly LifePredictor? _predictor;
    private readonly VisionTransformer? _teacher;
    private readonly List<KeyValuePair<string, Parameter>> _trainable;
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
            _teacher.LoadStateDict(model.state_dict(), "the student's starting weights");
            _teacher.eval();
            foreach (var p in _teacher.parameters())
            {
                p.requires_grad = false;
            }
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

    /// <summary>Whether the last <see cref="Fit"/> ended early because validation stopped improving.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>The parameters a checkpoint holds: the model's (timm names) and the predictor's under <c>life_predictor.</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> CheckpointParameters()
        => _model.NamedParameters().Concat(_predictor?.NamedParameters(PredictorPrefix) ?? Enumerable.Empty<KeyValuePair<string, Tensor>>());

    /// <summary>
    /// Continues from a checkpoint written by <see cref="Fit"/> (weights, predictor, optimizer, epoch). Build the
    /// trainer from the same starting weights as the interrupted run: they are the teacher.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint does not match the model, method or stage.</exception>
    public void Resume(string checkpointPath)
    {
        using var scope = NewDisposeScope();
        var entries = SafetensorsFile.Read(checkpointPath);
        int Counter(string key) => entries.TryGetValue(key, out var entry) ? (int)entry.ToTensor().item<float>() : throw new InvalidDataException($"'{checkpointPath}' is not a training checkpoint (no '{key}')");
        var epoch = Counter("trainer.epoch");

        // The learning-rate schedule and the data order depend on the run's length and batch size.
        foreach (var (key, value, option) in new[] { ("trainer.epochs", _options.Epochs, "Epochs"), ("trainer.batch_size", _options.BatchSize, "BatchSize") })
        {
            if (entries.ContainsKey(key) && Counter(key) != value)
            {
                throw new InvalidDataException($"'{checkpointPath}' was written by a run with {option} = {Counter(key)}, this one has {value}; resume with the same value");
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

        _epoch = epoch;
        _bestTop1 = entries.TryGetValue("trainer.best_top1", out var best) ? best.ToTensor().item<float>() : -1;
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

        if (o.CheckpointDirectory is { } workspace)
        {
            AtomicFile.RemoveLeftovers(workspace);
        }

        var c = _model.Config;
        if (train.Classes != c.NumClasses || train.Channels != c.InChannels || train.Height != c.ImageSize || train.Width != c.ImageSize)
        {
            throw new ArgumentException($"the training set ({train.Classes} classes, {train.Channels}x{train.Height}x{train.Width}) does not fit the model ({c.NumClasses} classes, {c.InChannels}x{c.ImageSize}x{c.ImageSize})");
        }

        var stepsPerEpoch = train.Count / o.BatchSize;
        if (stepsPerEpoch < 1)
        {
            throw new ArgumentException($"the training set has {train.Count} images, fewer than one batch of {o.BatchSize}");
        }

        var schedule = new CosineSchedule(o.LearningRate, (long)o.Epochs * stepsPerEpoch, (long)Math.Round(o.WarmupEpochs * stepsPerEpoch), o.MinLearningRate);
        var crop = new RandomResizedCrop { MinScale = o.MinCropScale, HorizontalFlip = o.HorizontalFlip };
        var mixing = new MixupCutmix { MixupAlpha = o.MixupAlpha, CutmixAlpha = o.CutmixAlpha };
        var device = _model.Device;
        EvaluationResult? last = null;
        var (bestScore, staleEpochs) = (double.NaN, 0);
        StoppedEarly = false;
        var run = Stopwatch.StartNew();
        var totalSteps = (long)o.Epochs * stepsPerEpoch;
        var stepsAtStart = (long)_epoch * stepsPerEpoch;
        TimeSpan Remaining(long stepsDone) => TimeSpan.FromSeconds(run.Elapsed.TotalSeconds / Math.Max(1, stepsDone - stepsAtStart) * (totalSteps - stepsDone));
        using var frozen = new FrozenParameters(ModelParameters().Concat(PredictorParameters()).Select(p => p.Value).Except(_trainable.Select(p => p.Value)));
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
                var rate = schedule.RateAt(globalStep);
                using (var scope = NewDisposeScope())
                {
                    var random = new Random(Seeds.Derive(o.Seed, 2, globalStep));
                    _model.SeedStochasticDepth(Seeds.Derive(o.Seed, 3, globalStep));
                    var indices = new ArraySegment<int>(order, step * o.BatchSize, o.BatchSize);
                    var images = train.Images(indices, device);
                    if (o.MinCropScale < 1 || o.HorizontalFlip)
                    {
                        images = crop.Apply(images, random);
                    }

                    var targets = SoftTargetCrossEntropy.Targets(train.LabelsOf(indices), train.Classes, o.LabelSmoothing, device);
                    mixing.Apply(images, targets, random);
                    lossSum += Step(images, targets, rate, $"epoch {_epoch + 1} step {step + 1}");
                }

                latest = new TrainingProgress(_epoch, o.Epochs, step, stepsPerEpoch, lossSum / (step + 1), rate,
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

    private double Step(Tensor images, Tensor targets, double learningRate, string where)
    {
        (Tensor Logits, Tensor Feature)? teacher = null;
        if (_teacher is not null)
        {
            using var _ = no_grad();
            var feature = _teacher.ClassFeature(_teacher.ForwardTokens(images));
            teacher = (_teacher.Head.forward(feature), feature);
        }

        _optimizer.zero_grad();
        _model.train();
        var trace = new TokenReductionTrace();
        var tokens = _strategy is null ? _model.ForwardTokens(images) : _strategy.ForwardTokens(_model, images, trace).Tokens;
        var studentFeature = _model.ClassFeature(tokens);
        var loss = _options.Objective.Compute(_model.Head.forward(studentFeature), studentFeature, targets, teacher, trace);
        var value = loss.Total.item<float>();
        if (!double.IsFinite(value))
        {
            throw Diverged($"the loss became {value} at {where}");
        }

        loss.Total.backward();
        var parameters = _trainable.Select(p => p.Value).ToList();
        var norm = nn.utils.clip_grad_norm_(parameters, _options.ClipGradNorm > 0 ? _options.ClipGradNorm : double.PositiveInfinity);
        if (!double.IsFinite(norm))
        {
            throw Diverged($"the gradient norm became {norm} at {where}");
        }

        AdamWGroups.SetLearningRate(_optimizer, learningRate);
        _optimizer.step();
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
        using var scope = NewDisposeScope();
        using var optimizerState = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerState, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            _optimizer.save_state_dict(writer);
        }

        var counters = new[]
        {
            KeyValuePair.Create("trainer.epoch", tensor(new[] { (float)(_epoch + 1) })),
            KeyValuePair.Create("trainer.best_top1", tensor(new[] { (float)_bestTop1 })),
            KeyValuePair.Create("trainer.epochs", tensor(new[] { (float)_options.Epochs })),
            KeyValuePair.Create("trainer.batch_size", tensor(new[] { (float)_options.BatchSize })),
            KeyValuePair.Create(OptimizerKey, tensor(optimizerState.ToArray())),
        };
        SafetensorsFile.Write(Path.Combine(dir, "last.ckpt.safetensors"), CheckpointParameters().Concat(counters));
        if (improved || validation is null)
        {
            _model.SaveWeights(Path.Combine(dir, "best.safetensors"));
            _predictor?.SaveWeights(Path.Combine(dir, "best.predictor.safetensors"));
            AtomicFile.Write(Path.Combine(dir, "config.json"), stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(_model.Config.ToJson())));
        }
    }

    private IEnumerable<KeyValuePair<string, Parameter>> ModelParameters() => _model.named_parameters().Select(p => KeyValuePair.Create(p.name, p.parameter));

    private IEnumerable<KeyValuePair<string, Parameter>> PredictorParameters()
        => _predictor?.named_parameters().Select(p => KeyValuePair.Create(PredictorPrefix + p.name, p.parameter)) ?? Enumerable.Empty<KeyValuePair<string, Parameter>>();

    private static int[] Permutation(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

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
}
