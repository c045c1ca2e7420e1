using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>The IdleViT objective and its parts (each a scalar).</summary>
/// <param name="Total">classification + θ·cut / idle layers + α·logit KD + β·feature KD.</param>
/// <param name="Classification">Cross-entropy against the labels.</param>
/// <param name="Cut">The weighted sum of the idle layers' cut terms (before θ and the division).</param>
/// <param name="LogitDistillation">KL(teacher ‖ student).</param>
/// <param name="FeatureDistillation">MSE of the normalised class features.</param>
/// <param name="CutTerms">Each idle layer's inter and intra terms; null when the pass had no training-mode idle layer.</param>
public sealed record IdleVitLoss(Tensor Total, Tensor Classification, Tensor Cut, Tensor LogitDistillation, Tensor FeatureDistillation, CutLossResult? CutTerms);
