using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// KL(teacher ‖ student) of the class distributions, summed over classes and divided by the batch
/// size (PyTorch's <c>batchmean</c>), at temperature T and multiplied by T² as DeiT does (T = 1 is
/// IdleViT's setting). The teacher's logits are constants.
/// </summary>
public sealed class LogitDistillationLoss
{
    /// <summary>Softmax temperature T (default 1).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>The loss, shape [1].</summary>
    public Tensor Compute(Tensor studentLogits, Tensor teacherLogits)
    {
        if (!ShapeUtil.SameShape(studentLogits.Shape, teacherLogits.Shape) || studentLogits.Rank != 2)
        {
            throw new ArgumentException($"logit distillation: student {ShapeUtil.Format(studentLogits.Shape)} and teacher {ShapeUtil.Format(teacherLogits.Shape)} must both be [B, classes]");
        }

        var t = (float)Temperature;
        var studentLog = Ops.LogSoftmax(Ops.Scale(studentLogits, 1f / t));
        var teacherLog = Ops.LogSoftmax(Ops.Scale(Constant(teacherLogits), 1f / t));
        var teacher = Ops.Softmax(Ops.Scale(Constant(teacherLogits), 1f / t));
        var kl = Ops.Sum(Ops.Mul(teacher, Ops.Subtract(teacherLog, studentLog)));
        return Ops.Scale(kl, t * t / studentLogits.Size(0));
    }

    /// <summary>A copy that does not carry gradients back to the teacher.</summary>
    internal static Tensor Constant(Tensor t) => t.RequiresGrad ? Tensor.FromArray(t.Data, t.ShapeArray.ToArray()) : t;
}
