using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// A token-reduction method as everything else sees it: its forward pass (scoring and training alike: it follows the
/// blocks' training mode), its per-layer token counts (MACs and memory estimates), its own extra weights, and — through
/// the exporter — its ONNX piece. The selector × reduction pairings (<see cref="TokenReductionStrategy"/>: EViT, IdleViT,
/// life regression) are one kind; token merging (<see cref="TokenMerging.TokenMergingForward"/>) is another.
/// </summary>
public interface IReducedForward
{
    /// <summary>
    /// The token counts of every block when scoring a model of <paramref name="config"/>'s shape; also the method's
    /// validation against that shape.
    /// </summary>
    /// <exception cref="ArgumentException">The method does not fit the model (schedule length, a layer left with no token).</exception>
    IReadOnlyList<LayerTokenCounts> Plan(VisionTransformerConfig config);

    /// <summary>Per layer of a training forward: the tokens it runs and whether it masks keys over all of them.</summary>
    IReadOnlyList<TrainingLayerTokens> TrainingPlan(VisionTransformerConfig config);

    /// <summary>The MACs per image the method itself adds in layer <paramref name="layer"/> (ranking, matching), beyond the block's own.</summary>
    long ReductionMacs(int layer, LayerTokenCounts counts, VisionTransformerConfig config);

    /// <summary>The tokens [B, N, E] after the last block, class token first; <paramref name="trace"/> receives what each reducing layer did.</summary>
    Tensor FinalTokens(VisionTransformer model, Tensor images, TokenReductionTrace? trace = null);

    /// <summary>The method's own weights (life regression's predictor), or null for the methods that have none.</summary>
    LifePredictor? Predictor { get; }

    /// <summary>Puts the method's own weights on <paramref name="model"/>'s device and in its number format.</summary>
    void PlaceWith(VisionTransformer model);
}
