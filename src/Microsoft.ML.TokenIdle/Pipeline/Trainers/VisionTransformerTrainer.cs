using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle.Pipeline.Trainers;

/// <summary>
/// Finetunes (or trains from scratch) a ViT image classifier on a key-typed label column and an image
/// column, with or without a token-reduction method, and returns it as a <see cref="VisionTransformerClassifier"/>.
/// Progress goes to <see cref="VisionTransformerTrainerOptions.MetricsCallback"/> and the context's log
/// (source <c>VisionTransformerTrainer</c>): one Info line per epoch, with validation accuracy when a
/// validation set is given.
/// </summary>
public sealed class VisionTransformerTrainer : IEstimator<VisionTransformerClassifier>
{
    private const string Source = nameof(VisionTransformerTrainer);
    private readonly MLContext _context;
    private readonly VisionTransformerTrainerOptions _options;

    internal VisionTransformerTrainer(MLContext context, VisionTransformerTrainerOptions options) => (_context, _options) = (context, options);

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.TryFindColumn(_options.LabelColumnName, out var label))
        {
            throw SchemaErrors.MissingColumn("label", _options.LabelColumnName);
        }

        if (!label.IsKey || label.Kind != SchemaShape.VectorKind.Scalar)
        {
            throw SchemaErrors.Mismatch("label", _options.LabelColumnName, "Key<UInt32> (use MapValueToKey)", label.ToString());
        }

        if (!inputSchema.TryFindColumn(_options.ImageColumnName, out var image))
        {
            throw SchemaErrors.MissingColumn("image", _options.ImageColumnName);
        }

        if (image.ItemType is not ImageDataViewType && !(image.Kind == SchemaShape.VectorKind.VariableVector && image.ItemType.RawType == typeof(byte)))
        {
            throw SchemaErrors.Mismatch("image", _options.ImageColumnName, "Image or Vector<Byte> (encoded)", image.ToString());
        }

        return new SchemaShape(inputSchema.Append(new SchemaShape.Column(_options.ScoreColumnName, SchemaShape.VectorKind.Vector, NumberDataViewType.Single, false, new[] { AnnotationKinds.SlotNames }))
            .Append(new SchemaShape.Column(_options.PredictionColumnName, SchemaShape.VectorKind.Scalar, NumberDataViewType.UInt32, true, new[] { AnnotationKinds.KeyValues })));
    }

    /// <inheritdoc/>
    public VisionTransformerClassifier Fit(IDataView input)
    {
        GetOutputSchema(SchemaShape.Create(input.Schema));
        _context.SelectDevice(Source);
        var o = _options;
        var labelColumn = input.Schema[o.LabelColumnName];
        var classNames = ClassNames(labelColumn);
        var config = BuildConfig(classNames.Count);
        var seed = o.Seed ?? _context.Seed ?? 1;
        var model = new VisionTransformer(config, seed);
        var headReplaced = o.PretrainedWeightsPath is { } weights && LoadPretrained(model, weights);

        var method = o.TokenReduction;
        var strategy = method?.CreateStrategy(config);
        if (o.MaxEpoch == 0)
        {
            if (o.PretrainedWeightsPath is null || headReplaced)
            {
                throw new InvalidOperationException("MaxEpoch = 0 scores pretrained weights as they are: give PretrainedWeightsPath with a head for the label's classes");
            }

            return Classifier(model, strategy, method, labelColumn, classNames);
        }

        var train = Read(input, config, classNames, "training");
        var validation = o.ValidationSet is { } v ? Read(v, config, classNames, "validation") : null;
        if (validation is null && o.ValidationSetFraction is { } fraction)
        {
            if (!(fraction > 0 && fraction < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(o.ValidationSetFraction), fraction, "the validation fraction must be in (0, 1)");
            }

            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(seed).Shuffle(order);
            var held = Math.Max(1, (int)Math.Round(train.Count * fraction));
            validation = train.Select(order[..held]);
            train = train.Select(order[held..]);
            _context.WriteLog(Source, ChannelMessageKind.Info, $"holding out {held} of the training rows for validation");
        }

        var gmacs = MacsCounter.Count(config, strategy).PaperGMacs;
        var progress = new MetricsProgress(this, gmacs);
        var trainerOptions = new TrainerOptions
        {
            Epochs = o.MaxEpoch, BatchSize = Math.Min(o.BatchSize, train.Count), LearningRate = o.LearningRate, WeightDecay = o.WeightDecay, WarmupEpochs = o.WarmupEpochs,
            LabelSmoothing = o.LabelSmoothing, MinCropScale = o.MinCropScale, HorizontalFlip = o.HorizontalFlip, Seed = seed, CheckpointDirectory = o.WorkspacePath,
            EvaluationBatchSize = o.BatchSize, Objective = o.Objective, EarlyStopping = o.EarlyStoppingCriteria,
        };
        if (o is LifeRegressionSlimmingOptions life)
        {
            var stage1 = trainerOptions with
            {
                EarlyStopping = null,
                Epochs = life.PredictorEpochs, LearningRate = life.PredictorLearningRate, WeightDecay = 0, WarmupEpochs = 0, CheckpointDirectory = null,
                Stage = TrainingStage.PredictorOnly, Objective = IdleVitObjective.CrossEntropyOnly,
            };
            _context.WriteLog(Source, ChannelMessageKind.Info, $"life regression stage 1: training the predictor for {life.PredictorEpochs} epoch(s)");
            new Trainer(model, strategy, stage1).Fit(train, null, progress);
            trainerOptions = trainerOptions with { Stage = TrainingStage.BackboneOnly };
            _context.WriteLog(Source, ChannelMessageKind.Info, $"life regression stage 2: training the backbone for {o.MaxEpoch} epoch(s)");
        }

        var trainer = new Trainer(model, strategy, trainerOptions);
        trainer.Fit(train, validation, progress);
        if (trainer.StoppedEarly)
        {
            _context.WriteLog(Source, ChannelMessageKind.Info, $"stopped early after {trainer.CompletedEpochs} of {o.MaxEpoch} epochs: validation did not improve");
        }

        return Classifier(model, strategy, method, labelColumn, classNames);
    }

    private VisionTransformerClassifier Classifier(VisionTransformer model, TokenReductionStrategy? strategy, TokenReductionOptions? method, DataViewSchema.Column labelColumn, IReadOnlyList<string> classNames)
    {
        model.Train(false);
        var methodName = method switch
        {
            null => "full",
            TokenIdlingOptions => "idle",
            TokenReorganizationOptions r => r.FuseInattentive ? "evit-fuse" : "evit",
            _ => "life",
        };
        var o = _options;
        return new VisionTransformerClassifier(model, strategy, methodName, method?.KeepRate ?? 1.0, labelColumn.Annotations, classNames, o.ImageColumnName, o.ScoreColumnName, o.PredictionColumnName, o.BatchSize, o.TokenMaskColumnName);
    }

    private VisionTransformerConfig BuildConfig(int classes)
    {
        var o = _options;
        var config = o.ConfigPath is { } path ? VisionTransformerConfig.Load(path) : VisionTransformerConfig.FromPreset(o.Architecture);
        var (mean, std) = config.InputNormalization();
        config = config with
        {
            NumClasses = classes,
            ImageSize = o.ImageSize ?? config.ImageSize,
            Mean = mean.Select(m => (double)m).ToArray(),
            Std = std.Select(s => (double)s).ToArray(),
        };
        config.Validate();
        return config;
    }

    /// <summary>Loads pretrained weights; a classifier head for another number of classes is replaced by the fresh one (returns true then).</summary>
    private bool LoadPretrained(VisionTransformer model, string path)
    {
        var state = Serialization.SafetensorsFile.Read(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
        var replaced = state.TryGetValue("head.weight", out var head) && head.Size(0) != model.Config.NumClasses;
        if (replaced)
        {
            _context.WriteLog(Source, ChannelMessageKind.Info, $"'{path}' has a head for {head!.Size(0)} classes; training a new head for {model.Config.NumClasses}");
            var own = model.StateDict();
            state["head.weight"] = own["head.weight"];
            state["head.bias"] = own["head.bias"];
        }

        model.LoadStateDict(state, path);
        return replaced;
    }

    private static IReadOnlyList<string> ClassNames(DataViewSchema.Column label)
    {
        var count = (int)((KeyDataViewType)label.Type).Count;
        if (label.Annotations.GetTypeOrNull(AnnotationKinds.KeyValues) is not VectorDataViewType type)
        {
            return Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }

        var reader = typeof(VisionTransformerTrainer).GetMethod(nameof(KeyValueTexts), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(type.ItemType.RawType);
        return (string[])reader.Invoke(null, new object[] { label })!;
    }

    private static string[] KeyValueTexts<T>(DataViewSchema.Column label)
    {
        VBuffer<T> values = default;
        label.Annotations.GetValue(AnnotationKinds.KeyValues, ref values);
        return values.DenseValues().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty).ToArray();
    }

    /// <summary>Reads every row's image and label; rows with a missing label (key 0) are skipped and counted in the log.</summary>
    private ImageDataset Read(IDataView data, VisionTransformerConfig config, IReadOnlyList<string> classNames, string what)
    {
        var image = data.Schema.GetColumnOrNull(_options.ImageColumnName) ?? throw SchemaErrors.MissingColumn("image", _options.ImageColumnName);
        var label = data.Schema.GetColumnOrNull(_options.LabelColumnName) ?? throw SchemaErrors.MissingColumn("label", _options.LabelColumnName);
        var images = new List<byte[]>();
        var labels = new List<int>();
        var missing = 0;
        using (var cursor = data.GetRowCursor(new[] { image, label }))
        {
            var readImage = ImageInput.Reader(cursor, image, config);
            var readLabel = cursor.GetGetter<uint>(label);
            var key = 0u;
            while (cursor.MoveNext())
            {
                readLabel(ref key);
                if (key == 0 || key > classNames.Count)
                {
                    missing++;
                    continue;
                }

                images.Add(readImage());
                labels.Add((int)key - 1);
            }
        }

        if (missing > 0)
        {
            _context.WriteLog(Source, ChannelMessageKind.Warning, $"{missing} {what} rows have a missing or unknown label and were skipped");
        }

        if (images.Count == 0)
        {
            throw new InvalidOperationException($"the {what} data has no rows with a label");
        }

        return ImageDataset.ForModel(images, labels.ToArray(), config, classNames);
    }

    /// <summary>Turns the trainer's progress into <see cref="TrainMetrics"/> for the callback and the log.</summary>
    private sealed class MetricsProgress : IProgress<TrainingProgress>
    {
        private readonly VisionTransformerTrainer _owner;
        private readonly double _gmacs;
        private int _lastDecile = -1;

        public MetricsProgress(VisionTransformerTrainer owner, double gmacs) => (_owner, _gmacs) = (owner, gmacs);

        public void Report(TrainingProgress value)
        {
            var decile = (value.Step + 1) * 10 / value.StepsPerEpoch;
            if (!value.EpochCompleted && decile == _lastDecile)
            {
                return;
            }

            _lastDecile = value.EpochCompleted ? -1 : decile;
            var metrics = new TrainMetrics
            {
                DatasetUsed = value.Validation is null ? "Train" : "Validation",
                BatchProcessedCount = value.Step + 1,
                Epoch = value.Epoch,
                Accuracy = value.Validation?.Top1 ?? double.NaN,
                CrossEntropy = value.Validation?.Loss ?? value.Loss,
                LearningRate = value.LearningRate,
                ImagesPerSecond = value.ImagesPerSecond,
                GMacs = _gmacs,
                Remaining = value.Remaining,
            };
            _owner._options.MetricsCallback?.Invoke(metrics);
            if (value.EpochCompleted)
            {
                var accuracy = value.Validation is { } v ? $"Accuracy for epoch {value.Epoch}: {v.Top1:F4}, validation loss {v.Loss:F4}, " : $"Epoch {value.Epoch}: ";
                _owner._context.WriteLog(Source, ChannelMessageKind.Info, $"{accuracy}training loss {value.Loss:F4}, learning rate {value.LearningRate:E2}, {value.ImagesPerSecond:F0} img/s, {_gmacs:F3} GMACs per image");
            }
        }
    }
}
