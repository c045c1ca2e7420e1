using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// IdleViT's finetuning objective: CE + α·KL(teacher ‖ student) + β·MSE(normalised class features)
/// + θ·cut / (number of idle layers), defaults α = 5, β = 500, θ = 20. The teacher is the frozen full
/// model the student started from; its logits and class feature come in as constants. The cut term
/// enters only where the pass had training-mode idle layers, and the distillation terms only with a
/// teacher, so the same objective is the distillation recipe of EViT and life regression, and plain
/// cross-entropy without a teacher.
/// </summary>
public sealed record IdleVitObjective
{
    /// <summary>Plain (soft-target) cross-entropy: every other weight 0, no teacher.</summary>
    public static IdleVitObjective CrossEntropyOnly => new() { LogitWeight = 0, FeatureWeight = 0, CutWeight = 0 };

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

    /// <summary>The objective in words, e.g. <c>cross-entropy + 5 × logit distillation + 500 × feature distillation + 20 × cut loss</c>.</summary>
    public string Description
    {
        get
        {
            var terms = new List<string> { "cross-entropy" };
            foreach (var (weight, name) in new[] { (LogitWeight, "logit distillation"), (FeatureWeight, "feature distillation"), (CutWeight, "cut loss") })
            {
                if (weight > 0)
                {
                    terms.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{weight} × {name}"));
                }
            }

            return string.Join(" + ", terms);
        }
    }

    /// <summary>Whether <see cref="Compute"/> needs the teacher's outputs.</summary>
    public bool NeedsTeacher => LogitWeight > 0 || FeatureWeight > 0;

    /// <summary>Whether <see cref="Compute"/> computes the cut loss (over every idle layer's token pairs; its terms are recorded even when <see cref="CutLoss"/> adds none).</summary>
    public bool ComputesCutLoss => CutWeight > 0;

    /// <summary>
    /// The objective for one batch: <paramref name="targets"/> are class distributions [B, classes]
    /// (one-hot, smoothed or mixed), <paramref name="teacher"/> the teacher's logits and class feature.
    /// </summary>
    public IdleVitLoss Compute(Tensor studentLogits, Tensor studentFeature, Tensor targets, (Tensor Logits, Tensor Feature)? teacher, TokenReductionTrace trace)
    {
        if (NeedsTeacher && teacher is null)
        {
            throw new ArgumentException($"the objective distils (α = {LogitWeight}, β = {FeatureWeight}) but no teacher outputs were given");
        }

        var classification = SoftTargetCrossEntropy.Compute(studentLogits, targets);
        var total = classification;
        var zero = zeros(Array.Empty<long>(), device: studentLogits.device);
        CutLossResult? cut = null;
        if (ComputesCutLoss && trace.Records.Any(r => r.Qkv is not null))
        {
            cut = CutLoss.Compute(trace);
            total = total + cut.Total * (CutWeight / cut.IdleLayers);
        }

        var (logits, features) = (zero, zero);
        if (teacher is { } t)
        {
            logits = LogitDistillation.Compute(studentLogits, t.Logits);
            features = FeatureDistillation.Compute(studentFeature, t.Feature);
            total = total + logits * LogitWeight + features * FeatureWeight;
        }

        return new IdleVitLoss(total, classification, cut?.Total ?? zero, logits, features, cut);
    }
}
