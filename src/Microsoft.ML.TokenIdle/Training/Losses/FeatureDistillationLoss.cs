using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// Mean squared error between the L2-normalised class features of student and teacher ([B,E]),
/// averaged over all B·E entries; norms are floored at 1e-12. The teacher's features are constants.
/// </summary>
public sealed class FeatureDistillationLoss
{
    /// <summary>The loss, shape [1].</summary>
    public Tensor Compute(Tensor studentFeature, Tensor teacherFeature)
    {
        if (!ShapeUtil.SameShape(studentFeature.Shape, teacherFeature.Shape))
        {
            throw new ArgumentException($"feature distillation: student {ShapeUtil.Format(studentFeature.Shape)} and teacher {ShapeUtil.Format(teacherFeature.Shape)} differ");
        }

        var diff = Ops.Subtract(Ops.L2Normalize(studentFeature), Ops.L2Normalize(LogitDistillationLoss.Constant(teacherFeature)));
        return Ops.Mean(Ops.Mul(diff, diff));
    }
}
