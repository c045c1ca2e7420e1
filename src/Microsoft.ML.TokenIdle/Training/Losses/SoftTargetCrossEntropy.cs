using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// Cross-entropy against class distributions [B, classes] (−Σ_c t_c·log softmax(z)_c, batch mean):
/// one-hot targets give the usual cross-entropy, smoothed or mixed targets give label smoothing and
/// mixup/cutmix.
/// </summary>
public static class SoftTargetCrossEntropy
{
    /// <summary>The loss, shape [1].</summary>
    public static Tensor Compute(Tensor logits, Tensor targets)
    {
        if (logits.Rank != 2 || !ShapeUtil.SameShape(logits.Shape, targets.Shape))
        {
            throw new ArgumentException($"soft-target cross-entropy: logits {ShapeUtil.Format(logits.Shape)} and targets {ShapeUtil.Format(targets.Shape)} must both be [B, classes]");
        }

        return Ops.Scale(Ops.Sum(Ops.Mul(Ops.LogSoftmax(logits), targets)), -1f / logits.Size(0));
    }

    /// <summary>One-hot targets with label smoothing ε: (1 − ε) on the label plus ε / classes everywhere.</summary>
    public static Tensor Targets(int[] labels, int classes, double smoothing = 0)
    {
        if (!(smoothing >= 0 && smoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(smoothing), $"label smoothing {smoothing} is outside [0, 1)");
        }

        var targets = Tensor.Full((float)(smoothing / classes), labels.Length, classes);
        for (var b = 0; b < labels.Length; b++)
        {
            if ((uint)labels[b] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[b]} is outside [0, {classes})");
            }

            targets.Data[b * classes + labels[b]] += (float)(1 - smoothing);
        }

        return targets;
    }
}
