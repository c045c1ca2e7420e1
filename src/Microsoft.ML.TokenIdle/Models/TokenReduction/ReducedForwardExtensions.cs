using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>One place that runs a model with or without a token-reduction method.</summary>
public static class ReducedForwardExtensions
{
    /// <summary>
    /// The float32 logits of <paramref name="images"/>: the full model when <paramref name="method"/> is null, else
    /// the method's reduced pass (recording into <paramref name="trace"/> when given). A half-precision model computes
    /// in float16 and returns float32 logits, so callers never see its precision.
    /// </summary>
    public static Tensor Forward(this VisionTransformer model, Tensor images, IReducedForward? method, TokenReductionTrace? trace = null)
        => (method is null ? model.forward(images) : method.Forward(model, images, trace)).to_type(ScalarType.Float32);

    /// <summary>Logits [B, classes] of <paramref name="method"/>'s forward pass, in the model's own number format.</summary>
    public static Tensor Forward(this IReducedForward method, VisionTransformer model, Tensor images, TokenReductionTrace? trace = null)
        => model.Classify(method.FinalTokens(model, images, trace));
}
