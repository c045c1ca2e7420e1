using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The "which tokens matter" half of a token-reduction method. A reduction asks it for scores at the
/// layers where it reduces and keeps the highest-scoring tokens; a new selector (e.g. a learned
/// scorer) is one class implementing this interface.
/// </summary>
public interface ITokenSelector
{
    /// <summary>Short name used in traces and reports.</summary>
    string Name { get; }

    /// <summary>
    /// Called before every block with the tokens entering it; a selector that predicts once (life
    /// regression) attaches its per-token priorities here. Returns the state to continue with.
    /// </summary>
    TokenState Prepare(int layer, TokenState state);

    /// <summary>
    /// Scores [B, N−1] of the non-class tokens entering <paramref name="layer"/>, higher meaning more
    /// important. <paramref name="normed"/> is that block's norm1 of the tokens; scores may carry
    /// gradients (EViT's fusion weights do).
    /// </summary>
    Tensor Score(int layer, TokenState state, Tensor normed, Attention attention);

    /// <summary>
    /// In training only: additive log-weights [B, N] that softly hide keys at this layer instead of a
    /// hard reduction (no token is removed), or null when the selector has no such relaxation here.
    /// </summary>
    Tensor? SoftKeyWeights(int layer, TokenState state);

    /// <summary>
    /// Whether <see cref="SoftKeyWeights"/> gives weights at <paramref name="layer"/> in training, known before a forward
    /// runs (memory estimates read it); by default no layer.
    /// </summary>
    bool WeightsKeysInTraining(int layer) => false;

    /// <summary>Multiply-accumulates spent choosing tokens at a layer with <paramref name="tokens"/> tokens (0 if none).</summary>
    long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config);
}
