using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// IdleViT's finetuning objective: CE + α·KL(teacher ‖ student) + β·MSE(normalised class features)
/// + θ·cut / (number of idle layers), defaults α = 5, β = 500, θ = 20. The teacher is the frozen full
/// model the student started from; its logits and class feature come in as constants.
/// </summary>
public sealed class IdleVitObjective
{
    /// <summary>α, weight of the logit distillation.</summary>
    public double LogitWeight { get; init; } = 5;

    /// <summary>β, weight of the feature distillation.</summary>
    public double FeatureWeight { get; init; } = 500;

    /// <summary>θ, weight of the token cut loss.</summary>
    public double CutWeight { get; init; } = 20;

    /// <summary>The cut loss (variant and per-layer weights).</summary>
    public CutLoss CutLoss { get; init; } = new();

    /// <summary>The logit distillation (temperature).</summary>
    public LogitDistillationLoss LogitDistillation { get; init; } = new();

    /// <summary>The feature distillation.</summary>
    public FeatureDistillationLoss FeatureDistillation { get; init; } = new();

    /// <summary>The objective for one batch of a training-mode idling forward pass.</summary>
    public IdleVitLoss Compute(Tensor studentLogits, Tensor studentFeature, Tensor teacherLogits, Tensor teacherFeature, int[] labels, TokenReductionTrace trace)
    {
        var classification = Ops.CrossEntropy(studentLogits, labels);
        var cut = CutLoss.Compute(trace);
        var logits = LogitDistillation.Compute(studentLogits, teacherLogits);
        var features = FeatureDistillation.Compute(studentFeature, teacherFeature);
        var total = Ops.Add(
            Ops.Add(classification, Ops.Scale(cut.Total, (float)(CutWeight / cut.IdleLayers))),
            Ops.Add(Ops.Scale(logits, (float)LogitWeight), Ops.Scale(features, (float)FeatureWeight)));
        return new IdleVitLoss(total, classification, cut.Total, logits, features, cut);
    }
}
