using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle.Pipeline.Trainers;

/// <summary>
/// Settings of <see cref="VisionTransformerTrainer"/> (named as ML.NET's TorchSharp trainer options):
/// columns, the backbone (preset or config file, pretrained weights), the training recipe, the
/// validation set and a metrics callback. Without a token-reduction method it finetunes the full model;
/// the method's option classes derive from it.
/// </summary>
public class VisionTransformerTrainerOptions
{
    /// <summary>The key-typed label column (with <c>KeyValues</c>, e.g. from <c>MapValueToKey</c>).</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The image column: images (<c>LoadImages</c>, any size) or encoded bytes (<c>LoadRawImageBytes</c>).</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>The output column of class probabilities.</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>The output key column of the predicted class.</summary>
    public string PredictionColumnName { get; set; } = "PredictedLabel";

    /// <summary>
    /// An optional diagnostic output column (off by default): per reducing layer and patch, 1 where the layer
    /// kept or processed the patch, 0 where it dropped it or left it idle. Ignored for the full model.
    /// </summary>
    public string? TokenMaskColumnName { get; set; }

    /// <summary>A preset (<c>deit-tiny</c>, <c>deit-small</c>, <c>deit-base</c>) used when <see cref="ConfigPath"/> is null.</summary>
    public string Architecture { get; set; } = "deit-tiny";

    /// <summary>A timm-style <c>config.json</c>; replaces <see cref="Architecture"/>.</summary>
    public string? ConfigPath { get; set; }

    /// <summary>Pretrained weights (safetensors, timm names); null trains from the random initialisation. A head for another number of classes is replaced.</summary>
    public string? PretrainedWeightsPath { get; set; }

    /// <summary>Input size in pixels; null keeps the config's (other sizes resample the position embedding, as timm).</summary>
    public int? ImageSize { get; set; }

    /// <summary>Images per optimizer step, and per forward pass when scoring.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Epochs; 0 scores the pretrained weights as they are (a head for the label's classes must be in them).</summary>
    public int MaxEpoch { get; set; } = 3;

    /// <summary>Peak learning rate of the cosine schedule.</summary>
    public double LearningRate { get; set; } = 1e-4;

    /// <summary>AdamW's decoupled weight decay.</summary>
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
    public IDataView? ValidationSet { get; set; }

    /// <summary>Without a <see cref="ValidationSet"/>: the fraction of the training rows held out (seeded) for validation; null: none.</summary>
    public double? ValidationSetFraction { get; set; }

    /// <summary>Stop when validation stops improving (needs a validation set or fraction); null: train every epoch.</summary>
    public EarlyStopping? EarlyStoppingCriteria { get; set; }

    /// <summary>Called after every epoch (and every tenth of one) with the training metrics.</summary>
    public Action<TrainMetrics>? MetricsCallback { get; set; }

    /// <summary>Seed of initialisation, data order and augmentation; null: the context's seed, else 1 (as ML.NET's TorchSharp trainers).</summary>
    public int? Seed { get; set; }

    /// <summary>Folder for per-epoch checkpoints (resumable with the library's Trainer); null: none.</summary>
    public string? WorkspacePath { get; set; }

    /// <summary>The token-reduction method, or null for the full model.</summary>
    internal virtual TokenReductionOptions? TokenReduction => null;

    /// <summary>The loss weights.</summary>
    internal virtual IdleVitObjective Objective => IdleVitObjective.CrossEntropyOnly;
}

/// <summary>IdleViT: token idling at keep ratio k with the token cut loss and distillation from the starting model.</summary>
public sealed class TokenIdleImageClassificationOptions : VisionTransformerTrainerOptions
{
    /// <summary>Base keep ratio k (schedule k, k, k, k², k², k², k³, k³ at layers 4..11 for 12 layers).</summary>
    public double KeepRatio { get; set; } = 0.7;

    /// <summary>The idle layers; null for the paper's.</summary>
    public IReadOnlyList<int>? Layers { get; set; }

    /// <summary>An explicit ratio per layer; replaces <see cref="KeepRatio"/> and <see cref="Layers"/>.</summary>
    public IReadOnlyList<double>? Schedule { get; set; }

    /// <summary>θ, weight of the token cut loss.</summary>
    public double CutLossWeight { get; set; } = 20;

    /// <summary>α, weight of the logit distillation.</summary>
    public double LogitDistillationWeight { get; set; } = 5;

    /// <summary>β, weight of the feature distillation.</summary>
    public double FeatureDistillationWeight { get; set; } = 500;

    /// <summary>Which cut-loss terms.</summary>
    public CutLossVariant CutLoss { get; set; } = CutLossVariant.Both;

    internal override TokenReductionOptions TokenReduction => new TokenIdlingOptions { KeepRate = KeepRatio, Layers = Layers, Schedule = Schedule };

    internal override IdleVitObjective Objective => new()
    {
        LogitWeight = LogitDistillationWeight, FeatureWeight = FeatureDistillationWeight, CutWeight = CutLossWeight, CutLoss = new Training.Losses.CutLoss { Variant = CutLoss },
    };
}

/// <summary>EViT: inattentive tokens dropped (and fused into one) at a few layers.</summary>
public sealed class TokenReorganizationImageClassificationOptions : VisionTransformerTrainerOptions
{
    /// <summary>Keep rate k at each reduction layer (3, 6, 9 for 12 layers).</summary>
    public double KeepRate { get; set; } = 0.7;

    /// <summary>Fuse the dropped tokens into one, weighted by class attention.</summary>
    public bool FuseInattentive { get; set; } = true;

    /// <summary>The reduction layers; null for the paper's.</summary>
    public IReadOnlyList<int>? Layers { get; set; }

    /// <summary>An explicit ratio per layer; replaces <see cref="KeepRate"/> and <see cref="Layers"/>.</summary>
    public IReadOnlyList<double>? Schedule { get; set; }

    internal override TokenReductionOptions TokenReduction => new TokenReorganizationOptions { KeepRate = KeepRate, FuseInattentive = FuseInattentive, Layers = Layers, Schedule = Schedule };
}

/// <summary>Life-regression patch slimming: a predictor trained first (backbone frozen), then the backbone (predictor frozen).</summary>
public sealed class LifeRegressionSlimmingOptions : VisionTransformerTrainerOptions
{
    /// <summary>Keep ratio k at each slimming layer (4, 7, 10 for 12 layers).</summary>
    public double KeepRatio { get; set; } = 0.7;

    /// <summary>The slimming layers; null for the paper's.</summary>
    public IReadOnlyList<int>? Layers { get; set; }

    /// <summary>An explicit ratio per layer; replaces <see cref="KeepRatio"/> and <see cref="Layers"/>.</summary>
    public IReadOnlyList<double>? Schedule { get; set; }

    /// <summary>The layer whose output the predictor reads; null for the paper's (the 4th of 12).</summary>
    public int? PredictorLayer { get; set; }

    /// <summary>Steepness U of the training-time life mask.</summary>
    public double Steepness { get; set; } = 1.5;

    /// <summary>Epochs of stage 1 (predictor only).</summary>
    public int PredictorEpochs { get; set; } = 1;

    /// <summary>Learning rate of stage 1.</summary>
    public double PredictorLearningRate { get; set; } = 1e-3;

    internal override TokenReductionOptions TokenReduction => new LifeRegressionOptions { KeepRate = KeepRatio, Layers = Layers, Schedule = Schedule, PredictorLayer = PredictorLayer, Steepness = Steepness };
}
