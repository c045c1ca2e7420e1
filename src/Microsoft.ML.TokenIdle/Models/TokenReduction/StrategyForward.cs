using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>One place that runs a model with or without a token-reduction method.</summary>
public static class StrategyForward
{
    /// <summary>
    /// The float32 logits of <paramref name="images"/>: the full model when <paramref name="strategy"/> is null, else
    /// the method's reduced pass (recording into <paramref name="trace"/> when given). A half-precision model computes
    /// in float16 and returns float32 logits, so callers never see its precision.
    /// </summary>
    public static Tensor Forward(this VisionTransformer model, Tensor images, TokenReductionStrategy? strategy, TokenReductionTrace? trace = null)
        => (strategy is null ? model.forward(images) : strategy.Forward(model, images, trace)).to_type(ScalarType.Float32);
}
