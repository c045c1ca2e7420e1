using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The "what happens to the rest" half of a token-reduction method: drop (optionally fusing the
/// dropped tokens into one) or idle. It runs every block of a reducing forward pass, reducing where
/// the schedule's ratio is below 1 and asking the selector which tokens to keep.
/// </summary>
public interface ITokenReduction
{
    /// <summary>Short name used in traces and reports.</summary>
    string Name { get; }

    /// <summary>
    /// Non-class tokens a reducing layer keeps (or processes) at <paramref name="ratio"/> when
    /// <paramref name="current"/> non-class tokens enter it.
    /// </summary>
    int KeptCount(double ratio, int current);

    /// <summary>The token counts of one block when scoring (<paramref name="tokensIn"/> includes the class token).</summary>
    LayerTokenCounts Plan(double ratio, int tokensIn);

    /// <summary>Runs block <paramref name="layer"/> on <paramref name="state"/> at <paramref name="ratio"/> (1 = plain block).</summary>
    TokenState Run(Block block, int layer, double ratio, TokenState state, ITokenSelector selector, TokenReductionTrace? trace);

    /// <summary>
    /// Whether a training forward at <paramref name="layer"/> (planned for scoring as <paramref name="counts"/>) keeps
    /// all of its tokens and masks keys instead of removing tokens (memory estimates read it); by default no layer.
    /// </summary>
    bool MasksKeysInTraining(int layer, LayerTokenCounts counts, ITokenSelector selector) => false;
}
