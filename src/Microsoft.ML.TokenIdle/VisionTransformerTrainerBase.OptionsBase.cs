using System.ComponentModel;
using Microsoft.ML.Data;
using System.Text.Json.Serialization;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle;

public abstract partial class VisionTransformerTrainerBase
{
    /// <summary>
    /// The settings every ViT trainer has — the one training recipe of this library: the ML.NET trainers take it, the
    /// CLI's <c>tokenidle train</c> binds its flags to it (same names in kebab case, same defaults), code generation
    /// writes it, and <c>tokenidle bench --train</c> times its step. Columns, the backbone, the recipe, validation, seed,
    /// device, precision, data reading and checkpoints; each trainer's <c>Options</c> adds its method.
    /// </summary>
    public abstract class OptionsBase
    {
        // The recipe's defaults are defined once, in the engine's settings.
        private static readonly TrainerOptions Recipe = new();

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
        /// The network to start from; null: <see cref="TokenIdle.Backbone.Default"/>, the papers' DeiT-S
        /// (<c>timm/deit_small_patch16_224.fb_in1k</c>), fetched once into the Hugging Face cache. A head for another number
        /// of classes is replaced by a new one. Checked before anything is downloaded.
        /// </summary>
        public Backbone? Backbone { get; set; }

        /// <summary>Input size in pixels; null keeps the backbone's (other sizes resample the position embedding, as timm).</summary>
        public int? ImageSize { get; set; }

        /// <summary>The older spelling of <c>Backbone = Backbone.RandomlyInitialised(name)</c> (with <see cref="PretrainedWeightsPath"/>: those weights).</summary>
        [Obsolete("Use Backbone = Backbone.RandomlyInitialised(name).")]
        [EditorBrowsable(EditorBrowsableState.Never)]
        public string? Architecture { get; set; }

        /// <summary>The older spelling of <c>Backbone = Backbone.Files(configPath, weightsPath)</c>.</summary>
        [Obsolete("Use Backbone = Backbone.Files(configPath, weightsPath).")]
        [EditorBrowsable(EditorBrowsableState.Never)]
        public string? ConfigPath { get; set; }

        /// <summary>The older spelling of the weights of <c>Backbone.Files(configPath, weightsPath)</c>.</summary>
        [Obsolete("Use Backbone = Backbone.Files(configPath, weightsPath).")]
        [EditorBrowsable(EditorBrowsableState.Never)]
        public string? PretrainedWeightsPath { get; set; }

        /// <summary>The older spelling of <c>Backbone = Backbone.HubModel(id, revision)</c>.</summary>
        [Obsolete("Use Backbone = Backbone.HubModel(id, revision).")]
        [EditorBrowsable(EditorBrowsableState.Never)]
        public string? PretrainedModel { get; set; }

        /// <summary>The older spelling of the revision of <c>Backbone.HubModel(id, revision)</c>.</summary>
        [Obsolete("Use Backbone = Backbone.HubModel(id, revision).")]
        [EditorBrowsable(EditorBrowsableState.Never)]
        public string? PretrainedModelRevision { get; set; }

        /// <summary>Images per optimizer step, and per forward pass when scoring.</summary>
        public int BatchSize { get; set; } = Recipe.BatchSize;

        /// <summary>Epochs; 0 scores the pretrained weights as they are (the backbone's head must fit the label's classes).</summary>
        public int MaxEpoch { get; set; } = Recipe.Epochs;

        /// <summary>Stop after this many optimiser steps (the learning-rate schedule laid over them, <see cref="MaxEpoch"/> not used); null: <see cref="MaxEpoch"/> epochs.</summary>
        public long? MaxSteps { get; set; }

        /// <summary>Peak learning rate of the cosine schedule.</summary>
        public double LearningRate { get; set; } = Recipe.LearningRate;

        /// <summary>The learning rate the cosine schedule decays to.</summary>
        public double MinLearningRate { get; set; } = Recipe.MinLearningRate;

        /// <summary>Linear warm-up in epochs (may be fractional).</summary>
        public double WarmupEpochs { get; set; } = Recipe.WarmupEpochs;

        /// <summary>AdamW's decoupled weight decay (biases, norms, position embedding and class token excluded).</summary>
        public double WeightDecay { get; set; } = Recipe.WeightDecay;

        /// <summary>Global gradient-norm limit, as PyTorch's <c>clip_grad_norm_</c> (0: no clipping).</summary>
        public double ClipGradNorm { get; set; } = Recipe.ClipGradNorm;

        /// <summary>Label smoothing ε.</summary>
        public double LabelSmoothing { get; set; } = Recipe.LabelSmoothing;

        /// <summary>
        /// Random-resized-crop smallest area fraction of the decoded source image (1 = off); timm's finetuning default
        /// 0.08. The crop is resampled once to the model's size, so it keeps the source's detail.
        /// </summary>
        public double MinCropScale { get; set; } = Recipe.MinCropScale;

        /// <summary>Random horizontal flips of half of the images (false where orientation carries the label).</summary>
        public bool HorizontalFlip { get; set; } = Recipe.HorizontalFlip;

        /// <summary>Mixup α (0 = off).</summary>
        public double MixupAlpha { get; set; } = Recipe.MixupAlpha;

        /// <summary>CutMix α (0 = off).</summary>
        public double CutmixAlpha { get; set; } = Recipe.CutmixAlpha;

        /// <summary>Stochastic-depth rate of the last block (timm's <c>drop_path_rate</c>, linear over the blocks); null: the backbone config's.</summary>
        public double? DropPathRate { get; set; }

        /// <summary>α, weight of the logit distillation from the model training starts from (0: none; IdleViT's default 5).</summary>
        public double LogitDistillationWeight { get; set; }

        /// <summary>β, weight of the class-feature distillation from the starting model (0: none; IdleViT's default 500).</summary>
        public double FeatureDistillationWeight { get; set; }

        /// <summary>Temperature of the logit distillation.</summary>
        public double DistillationTemperature { get; set; } = Recipe.Objective.LogitDistillation.Temperature;

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

        /// <summary>The older spelling of <see cref="Precision"/> = <see cref="TokenIdle.Precision.Float16"/> (still read from saved trainer recipes).</summary>
        [Obsolete("Use Precision = Precision.Float16.")]
        [EditorBrowsable(EditorBrowsableState.Never)]
        public bool HalfPrecision { get; set; }

        /// <summary>Threads that decode and resize images while the model trains (ML.NET's parallel cursors, one each); null: the cores available.</summary>
        public int? DataWorkers { get; set; }

        /// <summary>Batches read ahead of the model step (resident images stay below (this + 1) × <see cref="BatchSize"/> + workers).</summary>
        public int PrefetchBatches { get; set; } = Recipe.Data.PrefetchBatches;

        /// <summary>
        /// Decoded images are kept in memory after their first read when the whole set fits this many megabytes (as
        /// <c>AppendCacheCheckpoint</c> would, but at the model's size); larger sets stream every epoch. 0: no cache.
        /// </summary>
        public long CacheBudgetMegabytes { get; set; } = ImageFileOptions.DefaultCacheBudgetBytes >> 20;

        /// <summary>
        /// Megabytes of decoded images held to shuffle a streamed ML.NET view: each epoch is a full seeded permutation of
        /// the rows, read as chunks of this size, one pass over the view in its own order per chunk (decoding only the
        /// chunk's rows; the other rows cost a cursor move). 64 MB are about 430 RGB images at 224 px, 85,000 grey ones
        /// at 28 px. Image files are read in any order and need no buffer.
        /// </summary>
        public long ShuffleBufferMegabytes { get; set; } = 64;

        /// <summary>Report (as a warning) and skip rows whose image cannot be read, instead of stopping with an error that names the row.</summary>
        public bool SkipUnreadableImages { get; set; }

        /// <summary>With <see cref="WorkspacePath"/>: also write the resumable checkpoint every this many steps within an epoch; null: after each epoch only.</summary>
        public long? CheckpointSteps { get; set; }

        /// <summary>Folder for the checkpoints (config.json, best.safetensors, last.ckpt.safetensors; resumable); null: none.</summary>
        public string? WorkspacePath { get; set; }

        /// <summary>The token-reduction method, or null for the full model.</summary>
        internal abstract IReductionMethodOptions? Method { get; }

        /// <summary>The trainer options of <paramref name="method"/> (null: the full model's), at their defaults, with the method set.</summary>
        /// <exception cref="ArgumentException">A method no trainer trains.</exception>
        internal static OptionsBase For(IReductionMethodOptions? method) => method switch
        {
            null => new VisionTransformerTrainer.Options(),
            TokenIdlingOptions idle => new TokenIdleImageClassificationTrainer.Options { TokenReduction = idle },
            TokenReorganizationOptions evit => new TokenReorganizationImageClassificationTrainer.Options { TokenReduction = evit },
            LifeRegressionOptions life => new LifeRegressionSlimmingTrainer.Options { TokenReduction = life },
            Models.TokenMerging.TokenMergingOptions merging => new TokenMergingImageClassificationTrainer.Options { TokenMerging = merging },
            _ => throw new ArgumentException($"no trainer trains the method '{method.Name}'"),
        };

        /// <summary>The recipe as the engine's settings, for <paramref name="trainCount"/> training images, running the products in <paramref name="precision"/>'s training format.</summary>
        internal TrainerOptions ToTrainerOptions(int trainCount, int seed, Precision precision) => new()
        {
            Epochs = MaxEpoch, MaxSteps = MaxSteps, BatchSize = Math.Min(BatchSize, trainCount), LearningRate = LearningRate, MinLearningRate = MinLearningRate,
            WarmupEpochs = WarmupEpochs, WeightDecay = WeightDecay, ClipGradNorm = ClipGradNorm, LabelSmoothing = LabelSmoothing, MinCropScale = MinCropScale,
            HorizontalFlip = HorizontalFlip, MixupAlpha = MixupAlpha, CutmixAlpha = CutmixAlpha, Objective = Objective, Seed = seed, CheckpointDirectory = WorkspacePath,
            CheckpointSteps = CheckpointSteps, EarlyStopping = EarlyStoppingCriteria, EvaluationBatchSize = BatchSize,
            Data = new DataPipelineOptions { Workers = DataWorkers ?? Environment.ProcessorCount, PrefetchBatches = PrefetchBatches },
            Precision = precision == Precision.BFloat16 ? Precision.BFloat16 : Precision.Float32,
        };

        /// <summary>The method's name as the CLI and saved models spell it.</summary>
        internal string MethodName => Method?.Name ?? TokenReductionMethods.Names[(int)TokenReductionMethod.Full];

        /// <summary>The training objective: cross-entropy, the distillation weights, and IdleViT's cut loss where the method has it.</summary>
        internal virtual IdleVitObjective Objective => new()
        {
            LogitWeight = LogitDistillationWeight,
            FeatureWeight = FeatureDistillationWeight,
            CutWeight = 0,
            LogitDistillation = new LogitDistillationLoss { Temperature = DistillationTemperature },
        };

        /// <summary>
        /// The backbone these options choose: <see cref="Backbone"/>, or the older properties' spelling of one, or
        /// <paramref name="unnamed"/> when they name none (null: the default; for a recipe saved before backbones were
        /// named, the embedded Fashion-MNIST ViT that was then the default).
        /// </summary>
        /// <exception cref="ArgumentException">Two spellings at once, or a combination that names no single backbone.</exception>
#pragma warning disable CS0618 // the older spellings are read here, and only here
        internal Backbone ChosenBackbone(Backbone? unnamed = null)
        {
            var legacy = (Architecture, ConfigPath, PretrainedWeightsPath, PretrainedModel, PretrainedModelRevision);
            if (legacy == default)
            {
                return Backbone ?? unnamed ?? TokenIdle.Backbone.Default;
            }

            if (Backbone is not null)
            {
                throw new ArgumentException($"Backbone and the older ConfigPath, Architecture, PretrainedWeightsPath and PretrainedModel name the backbone twice: give Backbone only (got {Backbone})");
            }

            if (PretrainedModel is { } id)
            {
                if ((ConfigPath ?? Architecture ?? PretrainedWeightsPath) is { } other)
                {
                    throw new ArgumentException($"PretrainedModel '{id}' brings its architecture and weights: give it without ConfigPath, Architecture or PretrainedWeightsPath (got '{other}')");
                }

                return TokenIdle.Backbone.HubModel(id, PretrainedModelRevision);
            }

            if (PretrainedModelRevision is { } revision)
            {
                throw new ArgumentException($"PretrainedModelRevision '{revision}' needs PretrainedModel");
            }

            if (ConfigPath is not null && Architecture is not null)
            {
                throw new ArgumentException($"give ConfigPath or Architecture, not both (got '{ConfigPath}' and '{Architecture}')");
            }

            return ConfigPath is { } config ? TokenIdle.Backbone.Files(config, PretrainedWeightsPath)
                : Architecture is { } name ? TokenIdle.Backbone.RandomlyInitialised(name) with { WeightsPath = PretrainedWeightsPath }
                : throw new ArgumentException($"PretrainedWeightsPath '{PretrainedWeightsPath}' needs the architecture it was made for: give Backbone = Backbone.Files(config, weights)");
        }

        /// <summary>
        /// Rewrites the options in today's spelling: the backbone as <see cref="Backbone"/> (what the older properties
        /// named, or <paramref name="unnamed"/> when they name none), float16 as <see cref="Precision"/>.
        /// </summary>
        /// <exception cref="ArgumentException">The older properties name no single backbone, or the precision contradicts itself.</exception>
        internal void UseCurrentNames(Backbone? unnamed)
        {
            (Backbone, Precision) = (ChosenBackbone(unnamed), ChosenPrecision());
            (Architecture, ConfigPath, PretrainedWeightsPath, PretrainedModel, PretrainedModelRevision, HalfPrecision) = (null, null, null, null, null, false);
        }

        /// <summary>The precision asked for, with <see cref="HalfPrecision"/> read as float16's older spelling.</summary>
        /// <exception cref="ArgumentException">An undefined value, or a contradiction.</exception>
        internal Precision ChosenPrecision()
        {
            if (!Enum.IsDefined(Precision))
            {
                throw new ArgumentException($"Precision {(int)Precision} is not Float32, BFloat16 or Float16");
            }

            if (!HalfPrecision)
            {
                return Precision;
            }

            return Precision is Precision.Float32 or Precision.Float16
                ? Precision.Float16
                : throw new ArgumentException($"HalfPrecision = true asks for float16, Precision = {Precision} for another: give one");
        }
#pragma warning restore CS0618

        /// <summary>Checks every setting that can be checked without reading anything, naming the first one out of range.</summary>
        /// <exception cref="ArgumentException">A setting is out of range or contradicts another.</exception>
        internal virtual void Validate()
        {
            ChosenBackbone().Validate();
            ChosenPrecision();
            Require(ImageSize is null or >= 1, $"ImageSize must be at least 1, got {ImageSize}");
            Require(BatchSize >= 1, $"BatchSize must be at least 1, got {BatchSize}");
            Require(MaxEpoch >= 0, $"MaxEpoch must not be negative, got {MaxEpoch}");
            Require(MaxSteps is null or >= 1, $"MaxSteps must be at least 1, got {MaxSteps}");
            Require(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate must be positive, got {LearningRate}");
            Require(MinLearningRate >= 0 && MinLearningRate <= LearningRate, $"MinLearningRate must be in [0, LearningRate], got {MinLearningRate}");
            Require(WarmupEpochs >= 0 && (MaxSteps is not null || MaxEpoch == 0 || WarmupEpochs <= MaxEpoch), $"WarmupEpochs must be in [0, MaxEpoch], got {WarmupEpochs}");
            Require(WeightDecay >= 0, $"WeightDecay must not be negative, got {WeightDecay}");
            Require(ClipGradNorm >= 0, $"ClipGradNorm must not be negative, got {ClipGradNorm}");
            Require(LabelSmoothing is >= 0 and < 1, $"LabelSmoothing must be in [0, 1), got {LabelSmoothing}");
            Require(MinCropScale is > 0 and <= 1, $"MinCropScale must be in (0, 1], got {MinCropScale}");
            Require(MixupAlpha >= 0, $"MixupAlpha must not be negative, got {MixupAlpha}");
            Require(CutmixAlpha >= 0, $"CutmixAlpha must not be negative, got {CutmixAlpha}");
            Require(DropPathRate is null or (>= 0 and < 1), $"DropPathRate must be in [0, 1), got {DropPathRate}");
            Require(LogitDistillationWeight >= 0, $"LogitDistillationWeight must not be negative, got {LogitDistillationWeight}");
            Require(FeatureDistillationWeight >= 0, $"FeatureDistillationWeight must not be negative, got {FeatureDistillationWeight}");
            Require(DistillationTemperature > 0, $"DistillationTemperature must be positive, got {DistillationTemperature}");
            Require(ValidationSetFraction is null or (> 0 and < 1), $"ValidationSetFraction must be in (0, 1), got {ValidationSetFraction}");
            Require(EarlyStoppingCriteria is null || (EarlyStoppingCriteria.Patience >= 1 && EarlyStoppingCriteria.MinDelta >= 0), $"EarlyStoppingCriteria needs Patience >= 1 and MinDelta >= 0, got {EarlyStoppingCriteria}");
            Require(EarlyStoppingCriteria is null || ValidationSet is not null || ValidationSetFraction is not null, "EarlyStoppingCriteria needs a ValidationSet or a ValidationSetFraction");
            Require(DataWorkers is null or (>= 1 and <= DataPipelineOptions.MaxWorkers), $"DataWorkers must be in [1, {DataPipelineOptions.MaxWorkers}], got {DataWorkers}");
            Require(PrefetchBatches is >= 1 and <= DataPipelineOptions.MaxPrefetchBatches, $"PrefetchBatches must be in [1, {DataPipelineOptions.MaxPrefetchBatches}], got {PrefetchBatches}");
            Require(CacheBudgetMegabytes >= 0, $"CacheBudgetMegabytes must not be negative, got {CacheBudgetMegabytes}");
            Require(ShuffleBufferMegabytes >= 1, $"ShuffleBufferMegabytes must be at least 1, got {ShuffleBufferMegabytes}");
            Require(CheckpointSteps is null or >= 1, $"CheckpointSteps must be at least 1, got {CheckpointSteps}");
            Require(CheckpointSteps is null || WorkspacePath is not null, "CheckpointSteps needs a WorkspacePath to write to");
            Method?.Validate();
        }

        /// <summary>Throws <see cref="ArgumentException"/> with <paramref name="message"/> unless <paramref name="ok"/>.</summary>
        private protected static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }
    }
}
