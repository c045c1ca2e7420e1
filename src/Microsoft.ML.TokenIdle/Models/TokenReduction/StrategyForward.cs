using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>One place that runs a model with or without a token-reduction method.</summary>
public static class StrategyForward
{
    /// <summary>
    /// The logits of <paramref name="images"/>: the full model when <paramref name="strategy"/> is null, else the
    /// method's reduced pass (recording into <paramref name="trace"/> when given).
    /// </summary>
    public static Tensor Forward(this VisionTransformer model, Tensor images, TokenReductionStrategy? strategy, TokenReductionTrace? trace = null)
        => strategy is null ? model.forward(images) : strategy.Forward(model, images, trace);
}
