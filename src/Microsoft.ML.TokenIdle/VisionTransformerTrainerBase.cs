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
public abstract class VisionTransformerTrainerBase : IEstimator<VisionTransformerClassifier>
{
    private readonly IHostEnvironment _env;
    private readonly OptionsBase _options;

    private protected VisionTransformerTrainerBase(IHostEnvironment env, OptionsBase options, string name)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        MLNetVersionCheck.Ensure();
        Host = env.Register(name);
    }

    private protected IHost Host { get; }

    /// <summary>The options this trainer was made with.</summary>
    internal OptionsBase Settings => _options;

    /// <summary>
    /// The settings every ViT trainer has (ML.NET's trainer options, named as its TorchSharp and image
    /// trainers name them): columns, the backbone, the training recipe, validation, seed, device,
    /// workspace and a metrics callback. Each trainer's <c>Options</c> adds its method.
    /// </summary>
    public abstract class OptionsBase
    {
        private protected OptionsBase()
        {
        }

        /// <summary>The key-typed label column (with <c>KeyValues</c>, e.g. from <c>MapValueToKey</c>).</summary>
        public string LabelColumnName { get; set; } = DefaultColumnNames.Label;

        /// <summary>
        /// The image column: images of any size (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c> or a
        /// <c>byte[]</c> member) or the model's normalised input as a float vector [C, S, S].
        /// </summary>
        public string ImageColumnName { get; set; } = "Image";

        /// <summary>The output column of class probabilities.</summary>
        public string ScoreColumnName { get; set; } = DefaultColumnNames.Score;

        /// <summary>The output key column of the predicted class.</summary>
        public string PredictedLabelColumnName { get; set; } = DefaultColumnNames.PredictedLabel;

        /// <summary>
        /// An optional diagnostic output column (off by default): per reducing layer and patch, 1 where the layer
        /// kept or processed the patch, 0 where it dropped it or left it idle. Ignored for the full model.
        /// </summary>
        public string? TokenMaskColumnName { get; set; }

        /// <summary>
        /// A preset (<c>deit-tiny</c>, <c>deit-small</c>, <c>deit-base</c>); with neither this nor <see cref="ConfigPath"/>,
        /// the backbone is the Fashion-MNIST ViT embedded in the library (with its weights).
        /// </summary>
        public string? Architecture { get; set; }

        /// <summary>A timm-style <c>config.json</c>; instead of <see cref="Architecture"/>.</summary>
        public string? ConfigPath { get; set; }

        /// <summary>
        /// Pretrained weights (safetensors, timm names, F32/F16/BF16); with a preset or config and no weights the model
        /// starts from timm's random initialisation. A head for another number of classes is replaced.
        /// </summary>
        public string? PretrainedWeightsPath { get; set; }

        /// <summary>
        /// A timm checkpoint on the Hugging Face Hub by its id, e.g. <c>timm/deit_small_patch16_224.fb_in1k</c>: its
        /// <c>config.json</c> gives the architecture and input convention, its <c>model.safetensors</c> the weights,
        /// both fetched once into the Hub cache huggingface_hub shares (<c>HF_HOME</c>, <c>HF_HUB_CACHE</c>,
        /// <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HUB_OFFLINE</c>; docs/hub.md). Instead of
        /// <see cref="Architecture"/>, <see cref="ConfigPath"/> and <see cref="PretrainedWeightsPath"/>.
        /// </summary>
        public string? PretrainedModel { get; set; }

        /// <summary>The Hub revision of <see cref="PretrainedModel"/>: a branch, tag or commit hash; null: <c>main</c>.</summary>
        public string? PretrainedModelRevision { get; set; }

        /// <summary>Input size in pixels; null keeps the config's (other sizes resample the position embedding, as timm).</summary>
        public int? ImageSize { get; set; }

        /// <summary>Images per optimizer step, and per forward pass when scoring.</summary>
        public int BatchSize { get; set; } = 32;

        /// <summary>Epochs; 0 scores the pretrained weights as they are (a head for the label's classes must be in them).</summary>
        public int MaxEpoch { get; set; } = 3;

        /// <summary>Peak learning rate of the cosine schedule.</summary>
        public double LearningRate { get; set; } = 1e-4;

        /// <summary>AdamW's decoupled weight decay (biases, norms, position embedding and class token excluded).</summary>
        public double WeightDecay { get; set; } = 0.05;

        /// <summary>Linear warm-up in epochs.</summary>
        public double WarmupEpochs { get; set; }

        /// <summary>Label smoothing.</summary>
        public double LabelSmoothing { get; set; } = 0.1;

        /// <summary>Random-resized-crop smallest area fraction (1 = off).</summary>
        public double MinCropScale { get; set; } = 1.0;

        /// <summary>Random horizontal flips.</summary>
        public bool HorizontalFlip { get; set; }

        /// <summary>Evaluated after each epoch (top-1 reported; with <see cref="WorkspacePath"/>, best.safetensors there keeps the best epoch).</summary>
        [JsonIgnore]
        public IDataView? ValidationSet { get; set; }

        /// <summary>Without a <see cref="ValidationSet"/>: the fraction of the training rows held out (seeded) for validation; null: none.</summary>
        public double? ValidationSetFraction { get; set; }

        /// <summary>Stop when validation stops improving (needs a validation set or fraction); null: train every epoch.</summary>
        public EarlyStopping? EarlyStoppingCriteria { get; set; }

        /// <summary>Called after every epoch (and every tenth of one) with the training metrics.</summary>
        [JsonIgnore]
        public Action<TrainMetrics>? MetricsCallback { get; set; }

        /// <summary>Seed of initialisation, data order and augmentation; null: the context's seed, else 1 (as ML.NET's TorchSharp trainers).</summary>
        public int? Seed { get; set; }

        /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; null: the context's <c>GpuDeviceId</c> (null there: the CPU), with its <c>FallbackToCpu</c>.</summary>
        public string? Device { get; set; }

        /// <summary>
        /// The number format the model runs in: <see cref="TokenIdle.Precision.BFloat16"/> trains with mixed precision
        /// (bfloat16 products, float32 weights, optimiser state and loss) and scores in bfloat16 — the choice for CPUs
        /// with AMX or AVX512-BF16 and for CUDA; <see cref="TokenIdle.Precision.Float16"/> trains in float32 (float16
        /// training would need loss scaling) and scores in float16, for CUDA; float32 by default. The zip keeps float32
        /// weights either way.
        /// </summary>
        public Precision Precision { get; set; }

        /// <summary>
        /// The older spelling of <see cref="Precision"/> = <see cref="TokenIdle.Precision.Float16"/> (still read from
        /// saved trainer recipes): true scores in float16.
        /// </summary>
        public bool HalfPrecision { get; set; }

        /// <summary>Stop after this many optimiser steps (the learning-rate schedule laid over them, <see cref="MaxEpoch"/> not used); null: <see cref="MaxEpoch"/> epochs.</summary>
        public long? MaxSteps { get; set; }

        /// <summary>Threads that decode and resize images while the model trains (ML.NET's parallel cursors, one each); null: the cores available.</summary>
        public int? DataWorkers { get; set; }

        /// <summary>Batches read ahead of the model step (resident images stay below (this + 1) × <see cref="BatchSize"/> + workers).</summary>
        public int PrefetchBatches { get; set; } = 4;

        /// <summary>
        /// Decoded images are kept in memory after their first read when the whole set fits this many megabytes (as
        /// <c>AppendCacheCheckpoint</c> would, but at the model's size); larger sets stream every epoch. 0: no cache.
        /// </summary>
        public long CacheBudgetMegabytes { get; set; } = ImageFileOptions.DefaultCacheBudgetBytes >> 20;

        /// <summary>
        /// Megabytes of decoded images held to shuffle a streamed view: each epoch is a full seeded permutation of the rows,
        /// read as chunks of this size, one pass over the view in its own order per chunk (decoding only the chunk's rows;
        /// the other rows cost a cursor move). 64 MB are about 430 RGB images at 224 px, 85,000 grey ones at 28 px.
        /// </summary>
        public long ShuffleBufferMegabytes { get; set; } = 64;

        /// <summary>Report (as a warning) and skip rows whose image cannot be read, instead of stopping with an error that names the row.</summary>
        public bool SkipUnreadableImages { get; set; }

        /// <summary>With <see cref="WorkspacePath"/>: also write the resumable checkpoint every this many steps within an epoch; null: after each epoch only.</summary>
        public long? CheckpointSteps { get; set; }

        /// <summary>Folder for per-epoch checkpoints (resumable with the library's <see cref="Trainer"/>); null: none.</summary>
        public string? WorkspacePath { get; set; }

        /// <summary>The token-reduction method, or null for the full model.</summary>
        internal abstract TokenReductionOptions? Method { get; }

        /// <summary>The method's name as the CLI and saved models spell it.</summary>
        internal abstract string MethodName { get; }

        /// <summary>The loss weights.</summary>
        internal virtual IdleVitObjective Objective => IdleVitObjective.CrossEntropyOnly;
    }

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
        var device = DeviceSelection.Select(_env, channel, o.Device);
        var labels = LabelKeyValues.FromColumn(input.Schema[o.LabelColumnName]);
        // Settled before anything is loaded or trained: a contradiction found after training would waste it.
        var precision = ScoringPrecision(o);
        var (config, weights) = Backbone(labels.Names.Count, channel);
        ImageColumn.Check(Host, input.Schema, o.ImageColumnName, config);
        var seed = o.Seed ?? (_env as IHostEnvironmentInternal)?.Seed ?? 1;
        var headReplaced = false;
        var model = weights is null ? new VisionTransformer(config, seed) : LoadPretrained(config, weights, seed, channel, out headReplaced);
        var method = o.Method;
        var strategy = method?.CreateStrategy(config);
        model.to(device);
        strategy?.PlaceWith(model);
        if (o.MaxEpoch < 0 || o.BatchSize < 1 || o.MaxSteps < 1 || o.CheckpointSteps < 1 || o.DataWorkers < 1 || o.PrefetchBatches < 1 || o.CacheBudgetMegabytes < 0 || o.ShuffleBufferMegabytes < 1)
        {
            throw Host.Except($"MaxEpoch must not be negative, CacheBudgetMegabytes neither, and BatchSize, MaxSteps, CheckpointSteps, DataWorkers, PrefetchBatches and ShuffleBufferMegabytes must be at least 1; got {o.MaxEpoch}, {o.CacheBudgetMegabytes}, {o.BatchSize}, {o.MaxSteps}, {o.CheckpointSteps}, {o.DataWorkers}, {o.PrefetchBatches} and {o.ShuffleBufferMegabytes}");
        }

        if (o.MaxEpoch == 0)
        {
            if (weights is null || headReplaced)
            {
                throw Host.Except("MaxEpoch = 0 scores pretrained weights as they are: give PretrainedWeightsPath with a head for the label's classes");
            }

            return Classifier(model, strategy, labels, precision);
        }

        ImageSource train = Source(input, config, labels, "training", channel);
        ImageSource? validation = o.ValidationSet is { } v ? Source(v, config, labels, "validation", channel) : null;
        if (validation is null && o.ValidationSetFraction is { } fraction)
        {
            if (!(fraction > 0 && fraction < 1))
            {
                throw Host.ExceptParam(nameof(o.ValidationSetFraction), $"the validation fraction must be in (0, 1), got {fraction}");
            }

            (train, validation) = train.Split(fraction, seed);
            channel.Info($"holding out {validation.Count} of the training rows for validation");
        }

        var progress = new MetricsProgress(this, channel, MacsCounter.Count(config, strategy).PaperGMacs);
        var recipe = new TrainerOptions
        {
            Epochs = o.MaxEpoch, BatchSize = Math.Min(o.BatchSize, train.Count), LearningRate = o.LearningRate, WeightDecay = o.WeightDecay, WarmupEpochs = o.WarmupEpochs,
            LabelSmoothing = o.LabelSmoothing, MinCropScale = o.MinCropScale, HorizontalFlip = o.HorizontalFlip, Seed = seed, CheckpointDirectory = o.WorkspacePath,
            EvaluationBatchSize = o.BatchSize, Objective = o.Objective, EarlyStopping = o.EarlyStoppingCriteria, MaxSteps = o.MaxSteps, CheckpointSteps = o.CheckpointSteps,
            Data = new DataPipelineOptions { Workers = o.DataWorkers ?? Environment.ProcessorCount, PrefetchBatches = o.PrefetchBatches },
            Precision = precision == Precision.BFloat16 ? Precision.BFloat16 : Precision.Float32,
        };
        recipe = BeforeTraining(model, strategy, recipe, train, progress, channel);
        using var trainer = new Trainer(model, strategy, recipe);
        trainer.Fit(train, validation, progress);
        if (train.SkippedCount + (validation?.SkippedCount ?? 0) is var skipped and > 0)
        {
            channel.Warning($"{skipped} unreadable images were skipped");
        }

        if (trainer.StoppedEarly)
        {
            channel.Info($"stopped early after {trainer.CompletedEpochs} of {o.MaxEpoch} epochs: validation did not improve");
        }

        return Classifier(model, strategy, labels, precision);
    }

    /// <summary>
    /// A stage that runs before the main training (life regression's predictor stage); returns the main
    /// training's recipe. Default: none.
    /// </summary>
    private protected virtual TrainerOptions BeforeTraining(VisionTransformer model, TokenReductionStrategy? strategy, TrainerOptions recipe, ImageSource train, IProgress<TrainingProgress> progress, IChannel channel) => recipe;

    private VisionTransformerClassifier Classifier(VisionTransformer model, TokenReductionStrategy? strategy, LabelKeyValues labels, Precision precision)
    {
        model.eval();
        var o = _options;
        var recipe = new TrainerRecipe(GetType().Name, JsonSerializer.SerializeToElement(o, o.GetType()));
        return new VisionTransformerClassifier(_env, model, strategy, o.MethodName, o.Method?.KeepRate ?? 1.0, labels, o.ImageColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.BatchSize, o.TokenMaskColumnName, recipe, precision);
    }

    /// <summary>The precision the options ask for: <c>HalfPrecision</c> is float16's older spelling.</summary>
    private Precision ScoringPrecision(OptionsBase o)
    {
        if (!Enum.IsDefined(o.Precision))
        {
            throw Host.ExceptParam(nameof(o.Precision), $"Precision {(int)o.Precision} is not Float32, BFloat16 or Float16");
        }

        if (!o.HalfPrecision)
        {
            return o.Precision;
        }

        return o.Precision is Precision.Float32 or Precision.Float16
            ? Precision.Float16
            : throw Host.Except($"HalfPrecision = true asks for float16, Precision = {o.Precision} for another: give one");
    }

    /// <summary>The architecture for <paramref name="classes"/> classes and the weights to start from (null: random initialisation).</summary>
    private (VisionTransformerConfig Config, string? Weights) Backbone(int classes, IChannel channel)
    {
        var o = _options;
        if (o.ConfigPath is not null && o.Architecture is not null)
        {
            throw Host.Except($"give ConfigPath or Architecture, not both (got '{o.ConfigPath}' and '{o.Architecture}')");
        }

        if (o.PretrainedModel is not null && (o.ConfigPath ?? o.Architecture ?? o.PretrainedWeightsPath) is { } other)
        {
            throw Host.Except($"PretrainedModel '{o.PretrainedModel}' brings its architecture and weights: give it without ConfigPath, Architecture or PretrainedWeightsPath (got '{other}')");
        }

        VisionTransformerConfig config;
        var weights = o.PretrainedWeightsPath;
        if (o.PretrainedModel is { } id)
        {
            // As ML.NET's trainers report progress: messages on their channel, one per tenth of a file.
            var checkpoint = HubCheckpoint.Fetch(id, o.PretrainedModelRevision, progress: (file, done, total) => channel.Info($"{id}: {file} {done >> 20} of {total >> 20} MB"));
            channel.Info($"{id} at {checkpoint.Revision}: '{checkpoint.WeightsPath}'");
            (config, weights) = (checkpoint.Config, checkpoint.WeightsPath!);
        }
        else if (o.ConfigPath is { } path)
        {
            config = VisionTransformerConfig.Load(path);
        }
        else if (o.Architecture is { } preset)
        {
            config = VisionTransformerConfig.FromPreset(preset);
        }
        else
        {
            var embedded = PretrainedModels.FashionMnist();
            config = VisionTransformerConfig.Load(embedded.ConfigPath);
            weights ??= embedded.WeightsPath;
        }

        var (mean, std) = config.InputNormalization();
        config = config with
        {
            NumClasses = classes,
            ImageSize = o.ImageSize ?? config.ImageSize,
            Mean = mean.Select(m => (double)m).ToArray(),
            Std = std.Select(s => (double)s).ToArray(),
        };
        config.Validate();
        return (config, weights);
    }

    /// <summary>
    /// Builds the model from pretrained weights, checked against the config before it is built; a classifier head for
    /// another number of classes is replaced by the fresh one (<paramref name="headReplaced"/>).
    /// </summary>
    private static VisionTransformer LoadPretrained(VisionTransformerConfig config, string path, int seed, IChannel channel, out bool headReplaced)
    {
        var entries = SafetensorsFile.Read(path);
        var shapes = entries.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        headReplaced = shapes.TryGetValue("head.weight", out var head) && head.Length == 2 && head[0] != config.NumClasses;
        if (headReplaced)
        {
            channel.Info($"'{path}' has a head for {head![0]} classes; training a new head for {config.NumClasses}");
            (shapes["head.weight"], shapes["head.bias"]) = (new long[] { config.NumClasses, config.EmbedDim }, new long[] { config.NumClasses });
        }

        VisionTransformer.CheckWeights(config, shapes, path);
        var model = new VisionTransformer(config, seed);
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
