using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.Hub;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// What the ViT trainers share: a multiclass trainer (an ML.NET <see cref="IEstimator{TTransformer}"/>) that
/// finetunes a ViT on a key-typed label column and an image column, with or without a token-reduction method,
/// and returns a <see cref="VisionTransformerClassifier"/>. Progress goes to the options' metrics callback and to
/// the context's log (source <c>NAME; Training</c>): one Info line per epoch, with the validation accuracy
/// when there is a validation set.
/// </summary>
public abstract partial class VisionTransformerTrainerBase : IEstimator<VisionTransformerClassifier>
{
    private readonly IHostEnvironment _env;
    private readonly OptionsBase _options;

    private protected VisionTransformerTrainerBase(IHostEnvironment env, OptionsBase options, string name)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        MLNetVersionCheck.Ensure();

        // Bad options fail here, as ML.NET's own trainers fail at construction, and again at Fit (options can change).
        options.Validate();
        Host = env.Register(name);
    }

    private protected IHost Host { get; }

    /// <summary>The options this trainer was made with.</summary>
    internal OptionsBase Settings => _options;

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        var o = _options;
        if (!inputSchema.TryFindColumn(o.LabelColumnName, out var label))
        {
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "label", o.LabelColumnName);
        }

        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "label", o.LabelColumnName, "Key (use MapValueToKey)", label.GetTypeString());
        }

        if (!inputSchema.TryFindColumn(o.ImageColumnName, out var image))
        {
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "image", o.ImageColumnName);
        }

        if (!ImageColumn.Accepts(image))
        {
            throw Host.ExceptSchemaMismatch(nameof(inputSchema), "image", o.ImageColumnName, "Image, Vector<Byte> (encoded image) or a known-size Vector<Single> (normalised input)", image.GetTypeString());
        }

        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[o.ScoreColumnName] = new SchemaShape.Column(o.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(label)));
        var keyValues = new SchemaShape(new[] { new SchemaShape.Column(AnnotationUtils.Kinds.KeyValues, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false) });
        columns[o.PredictedLabelColumnName] = new SchemaShape.Column(o.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, keyValues);
        return new SchemaShape(columns.Values);
    }

    /// <inheritdoc/>
    public VisionTransformerClassifier Fit(IDataView input)
    {
        Host.CheckValue(input, nameof(input));
        GetOutputSchema(SchemaShape.Create(input.Schema));
        var o = _options;
        using var channel = Host.Start("Training");

        // Every option is checked before anything is downloaded or loaded; a Hub backbone's small config comes first.
        var run = new TrainingRun(o, channel.Info);
        var device = DeviceSelection.Select(_env, channel, o.Device);
        var labels = LabelKeyValues.FromColumn(input.Schema[o.LabelColumnName]);
        ImageColumn.Check(Host, input.Schema, o.ImageColumnName, run.Architecture);
        var seed = o.Seed ?? (_env as IHostEnvironmentInternal)?.Seed ?? 1;
        if (o.MaxEpoch == 0)
        {
            var (pretrained, method) = run.Pretrained(labels.Names.Count, run.Architecture.InputFormat, device, seed);
            return Classifier(pretrained, method, labels, run);
        }

        var format = run.Architecture with { NumClasses = labels.Names.Count };
        ImageSource train = Source(input, format, labels, "training", channel);
        ImageSource? validation = o.ValidationSet is { } v ? Source(v, format, labels, "validation", channel) : null;
        if (validation is null && o.ValidationSetFraction is { } fraction)
        {
            (train, validation) = train.Split(fraction, seed);
            channel.Info($"holding out {validation.Count} of the training rows for validation");
        }

        var result = run.Train(train, validation, device, seed, (config, reduction) => new MetricsProgress(this, channel, MacsCounter.Count(config, reduction).PaperGMacs));
        if (train.SkippedCount + (validation?.SkippedCount ?? 0) is var skipped and > 0)
        {
            channel.Warning($"{skipped} unreadable images were skipped");
        }

        if (result.StoppedEarly)
        {
            channel.Info($"stopped early after {result.Epochs} of {o.MaxEpoch} epochs: validation did not improve");
        }

        return Classifier(result.Model, result.Reduction, labels, run);
    }

    private VisionTransformerClassifier Classifier(VisionTransformer model, IReducedForward? reduction, LabelKeyValues labels, TrainingRun run)
    {
        model.eval();
        var o = _options;

        // The recipe names the backbone it used, so code generation rebuilds this model even if the default changes.
        var saved = JsonSerializer.SerializeToElement(o, o.GetType());
        var recipe = new TrainerRecipe(GetType().Name, TrainerRecipe.WithBackbone(saved, run.Backbone));
        return new VisionTransformerClassifier(_env, model, reduction, o.MethodName, (o.Method as TokenReductionOptions)?.KeepRatio ?? 1.0, labels, o.ImageColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.BatchSize, o.TokenMaskColumnName, recipe, run.Precision);
    }

    /// <summary>
    /// The rows of <paramref name="data"/> with a label, streamed (and kept after their first read when all of them fit the
    /// cache budget); rows with a missing label (key 0) are skipped and counted in the log.
    /// </summary>
    private DataViewImageSource Source(IDataView data, VisionTransformerConfig config, LabelKeyValues labels, string what, IChannel channel)
    {
        var o = _options;
        var image = ImageColumn.Check(Host, data.Schema, o.ImageColumnName, config);
        var label = data.Schema.GetColumnOrNull(o.LabelColumnName) ?? throw Host.ExceptSchemaMismatch(nameof(data), "label", o.LabelColumnName);
        if (label.Type is not KeyDataViewType || label.Type.GetKeyCount() != (ulong)labels.Names.Count)
        {
            throw Host.ExceptSchemaMismatch(nameof(data), "label", o.LabelColumnName, $"Key<UInt32, 0-{labels.Names.Count - 1}> (the training label's)", label.Type.ToString());
        }

        var source = new DataViewImageSource(data, image, label, config, labels.Names, o.ShuffleBufferMegabytes << 20, o.CacheBudgetMegabytes << 20, o.SkipUnreadableImages,
            error => channel.Warning($"skipped an unreadable {what} image: {error}"));
        if (source.MissingLabels > 0)
        {
            channel.Warning($"{source.MissingLabels} {what} rows have a missing label and were skipped");
        }

        if (source.Count == 0)
        {
            throw Host.Except($"the {what} data has no rows with a label");
        }

        channel.Info(source.Cached
            ? $"{what}: {source.Count} rows, kept in memory after their first read ({source.Count * source.RowBytes >> 20} MB)"
            : $"{what}: {source.Count} rows, streamed every epoch");
        return source;
    }

    /// <summary>Turns the trainer's progress into <see cref="TrainMetrics"/> for the callback and the log, and honours cancellation.</summary>
    private protected sealed class MetricsProgress : IProgress<TrainingProgress>
    {
        private readonly VisionTransformerTrainerBase _owner;
        private readonly IChannel _channel;
        private readonly double _gmacs;
        private int _lastDecile = -1;

        public MetricsProgress(VisionTransformerTrainerBase owner, IChannel channel, double gmacs) => (_owner, _channel, _gmacs) = (owner, channel, gmacs);

        public void Report(TrainingProgress value)
        {
            _owner.Host.CheckAlive();
            var decile = (value.Step + 1) * 10 / value.StepsPerEpoch;
            if (!value.EpochCompleted && decile == _lastDecile)
            {
                return;
            }

            _lastDecile = value.EpochCompleted ? -1 : decile;
            _owner._options.MetricsCallback?.Invoke(new TrainMetrics
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
                DataImagesPerSecond = value.DataImagesPerSecond,
                DataWaitFraction = value.DataWaitFraction,
            });
            if (value.EpochCompleted)
            {
                var accuracy = value.Validation is { } v ? $"Accuracy for epoch {value.Epoch}: {v.Top1:F4}, validation loss {v.Loss:F4}, " : $"Epoch {value.Epoch}: ";
                var data = value.DataImagesPerSecond is { } rate ? $"{rate:F0} img/s decoded" : "images in memory";
                _channel.Info($"{accuracy}training loss {value.Loss:F4}, learning rate {value.LearningRate:E2}, {value.ImagesPerSecond:F0} img/s trained, {data}, {value.DataWaitFraction:P0} waiting for data, {_gmacs:F3} GMACs per image");
            }
        }
    }
}
