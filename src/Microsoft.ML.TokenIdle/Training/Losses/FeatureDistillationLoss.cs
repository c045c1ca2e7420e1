using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// Mean squared error between the L2-normalised class features of student and teacher ([B,E]), averaged over all
/// B·E entries; norms are floored at 1e-12. The teacher's features are constants.
/// </summary>
public sealed class FeatureDistillationLoss
{
    /// <summary>The loss, a scalar.</summary>
    public Tensor Compute(Tensor studentFeature, Tensor teacherFeature)
    {
        if (!studentFeature.shape.SequenceEqual(teacherFeature.shape))
        {
            throw new ArgumentException($"feature distillation: student {Shapes.Format(studentFeature.shape)} and teacher {Shapes.Format(teacherFeature.shape)} differ");
        }

        var difference = nn.functional.normalize(studentFeature, p: 2, dim: -1, eps: 1e-12) - nn.functional.normalize(teacherFeature.detach(), p: 2, dim: -1, eps: 1e-12);
        return difference.square().mean();
    }
}
