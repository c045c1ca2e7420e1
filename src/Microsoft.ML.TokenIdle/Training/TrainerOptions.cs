using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle.Training;

/// <summary>
/// Settings of a <see cref="Trainer"/> run. Their defaults are the library's one finetuning recipe, which the ML.NET
/// trainers' <c>Options</c> and <c>tokenidle train</c> take from here: 3 epochs of batches of 32 at a peak learning rate
/// of 1e-4 (cosine to 1e-6), AdamW with weight decay 0.05, gradients clipped at norm 5, label smoothing 0.1, and timm's
/// finetuning augmentation (random resized crops of 8–100 % of the source image, horizontal flips).
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs (passes over the training set).</summary>
    public int Epochs { get; set; } = 3;

    /// <summary>Images per optimizer step (the last incomplete batch of an epoch is dropped).</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Peak learning rate of the cosine schedule.</summary>
    public double LearningRate { get; set; } = 1e-4;

    /// <summary>The learning rate the cosine decays to.</summary>
    public double MinLearningRate { get; set; } = 1e-6;

    /// <summary>Linear warm-up length in epochs (may be fractional).</summary>
    public double WarmupEpochs { get; set; }

    /// <summary>AdamW's decoupled weight decay.</summary>
    public double WeightDecay { get; set; } = 0.05;

    /// <summary>Global gradient-norm limit (0 = no clipping).</summary>
    public double ClipGradNorm { get; set; } = 5.0;

    /// <summary>Label smoothing ε.</summary>
    public double LabelSmoothing { get; set; } = 0.1;

    /// <summary>Smallest random-resized-crop area fraction of the source image (1 = no cropping); timm's 0.08.</summary>
    public double MinCropScale { get; set; } = 0.08;

    /// <summary>Random horizontal flips (half of the images).</summary>
    public bool HorizontalFlip { get; set; } = true;

    /// <summary>Mixup α (0 = off).</summary>
    public double MixupAlpha { get; set; }

    /// <summary>CutMix α (0 = off).</summary>
    public double CutmixAlpha { get; set; }

    /// <summary>Which parameters are trained (life regression's two stages).</summary>
    public TrainingStage Stage { get; set; } = TrainingStage.All;

    /// <summary>Loss weights: α (logit distillation), β (feature distillation), θ (cut loss) and the cut-loss settings; zero weights switch parts off.</summary>
    public IdleVitObjective Objective { get; set; } = IdleVitObjective.CrossEntropyOnly;

    /// <summary>Seed of data order, augmentation and initialisation; equal seeds give equal runs.</summary>
    public int Seed { get; set; }

    /// <summary>Folder for <c>last.ckpt.safetensors</c> and <c>best.safetensors</c>; null for none.</summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Stop when validation stops improving (needs a validation set); null: train every epoch.</summary>
    public EarlyStopping? EarlyStopping { get; set; }

    /// <summary>
    /// Stop after this many optimiser steps (the learning-rate schedule is laid over them, across as many epochs as
    /// they take; <see cref="Epochs"/> is then not used); null: <see cref="Epochs"/> full epochs.
    /// </summary>
    public long? MaxSteps { get; set; }

    /// <summary>
    /// Also write <c>last.ckpt.safetensors</c> every this many steps within an epoch (a resume continues from that step,
    /// exactly as the uninterrupted run); null: at the end of each epoch only.
    /// </summary>
    public long? CheckpointSteps { get; set; }

    /// <summary>How images are read: decode workers and batches read ahead.</summary>
    public Data.DataPipelineOptions Data { get; set; } = new();

    /// <summary>Images per batch when validating.</summary>
    public int EvaluationBatchSize { get; set; } = 256;

    /// <summary>
    /// The number format of the matrix products in training and validation: <see cref="Precision.BFloat16"/> runs
    /// them in bfloat16 (mixed precision: weights, gradients, optimiser state, checkpoints and the loss stay float32;
    /// bfloat16 has float32's range, so no loss scaling is needed); float32 by default. Float16 is refused: its
    /// narrow range would need loss scaling.
    /// </summary>
    public Precision Precision { get; set; }

    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ArgumentException($"trainer options: {what}");
            }
        }

        Require(Epochs >= 1, $"Epochs must be at least 1, got {Epochs}");
        Require(BatchSize >= 1, $"BatchSize must be at least 1, got {BatchSize}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate must be positive, got {LearningRate}");
        Require(MinLearningRate >= 0 && MinLearningRate <= LearningRate, $"MinLearningRate must be in [0, LearningRate], got {MinLearningRate}");
        Require(WarmupEpochs >= 0 && (MaxSteps is not null || WarmupEpochs <= Epochs), $"WarmupEpochs must be in [0, Epochs], got {WarmupEpochs}");
        Require(WeightDecay >= 0, $"WeightDecay must not be negative, got {WeightDecay}");
        Require(ClipGradNorm >= 0, $"ClipGradNorm must not be negative, got {ClipGradNorm}");
        Require(LabelSmoothing is >= 0 and < 1, $"LabelSmoothing must be in [0, 1), got {LabelSmoothing}");
        Require(MinCropScale is > 0 and <= 1, $"MinCropScale must be in (0, 1], got {MinCropScale}");
        Require(MixupAlpha >= 0 && CutmixAlpha >= 0, "MixupAlpha and CutmixAlpha must not be negative");
        Require(MaxSteps is null or >= 1, $"MaxSteps must be at least 1, got {MaxSteps}");
        Require(CheckpointSteps is null or >= 1, $"CheckpointSteps must be at least 1, got {CheckpointSteps}");
        Data.Validate();
        Require(Precision is Precision.Float32 or Precision.BFloat16, $"Precision must be Float32 or BFloat16 (float16 training would need loss scaling), got {Precision}");
        Require(EvaluationBatchSize >= 1, $"EvaluationBatchSize must be at least 1, got {EvaluationBatchSize}");
        Require(EarlyStopping is null || (EarlyStopping.Patience >= 1 && EarlyStopping.MinDelta >= 0), "EarlyStopping needs Patience >= 1 and MinDelta >= 0");
    }
}
