using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// KL(teacher ‖ student) of the class distributions, summed over classes and divided by the batch size
/// (PyTorch's <c>batchmean</c>), at temperature T and multiplied by T² as DeiT does (T = 1 is IdleViT's setting).
/// The teacher's logits are constants.
/// </summary>
public sealed class LogitDistillationLoss
{
    /// <summary>Softmax temperature T (default 1).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>The loss, a scalar.</summary>
    public Tensor Compute(Tensor studentLogits, Tensor teacherLogits)
    {
        if (studentLogits.dim() != 2 || !studentLogits.shape.SequenceEqual(teacherLogits.shape))
        {
            throw new ArgumentException($"logit distillation: student {Shapes.Format(studentLogits.shape)} and teacher {Shapes.Format(teacherLogits.shape)} must both be [B, classes]");
        }

        var t = Temperature;
        var studentLog = (studentLogits / t).log_softmax(-1);
        var teacherLog = (teacherLogits.detach() / t).log_softmax(-1);
        return (teacherLog.exp() * (teacherLog - studentLog)).sum() * (t * t / studentLogits.shape[0]);
    }
}
