using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// Cross-entropy against class distributions [B, classes] (−Σ_c t_c·log softmax(z)_c, batch mean): one-hot
/// targets give the usual cross-entropy, smoothed or mixed targets give label smoothing and mixup/cutmix.
/// </summary>
public static class SoftTargetCrossEntropy
{
    /// <summary>The loss, a scalar.</summary>
    public static Tensor Compute(Tensor logits, Tensor targets)
    {
        if (logits.dim() != 2 || !logits.shape.SequenceEqual(targets.shape))
        {
            throw new ArgumentException($"soft-target cross-entropy: logits {Shapes.Format(logits.shape)} and targets {Shapes.Format(targets.shape)} must both be [B, classes]");
        }

        return -(logits.log_softmax(-1) * targets).sum() / logits.shape[0];
    }

    /// <summary>One-hot targets with label smoothing ε: (1 − ε) on the label plus ε / classes everywhere, on <paramref name="device"/>.</summary>
    public static Tensor Targets(int[] labels, int classes, double smoothing = 0, Device? device = null)
    {
        if (!(smoothing >= 0 && smoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(smoothing), $"label smoothing {smoothing} is outside [0, 1)");
        }

        var bad = Array.FindIndex(labels, l => (uint)l >= (uint)classes);
        if (bad >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[bad]} is outside [0, {classes})");
        }

        var index = tensor(labels.Select(l => (long)l).ToArray(), dtype: int64, device: device);
        return full(labels.Length, classes, smoothing / classes, device: device).scatter_add_(1, index.unsqueeze(1), full(labels.Length, 1, 1 - smoothing, device: device));
    }
}
