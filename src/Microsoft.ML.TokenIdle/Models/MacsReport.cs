using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>Multiply-accumulates of one image's scoring pass.</summary>
/// <param name="PaperMacs">The papers' convention: every linear layer, attention product and the patch embedding for the tokens each part works on, leaving out the cost of choosing tokens.</param>
/// <param name="ExecutedMacs">What our engine actually runs: the same plus selection (class-query scores, the life predictor) and fusion, with queries/keys/values for the tokens whose projections are really computed.</param>
/// <param name="Layers">The token counts behind the figures, per block.</param>
public sealed record MacsReport(long PaperMacs, long ExecutedMacs, IReadOnlyList<LayerTokenCounts> Layers)
{
    /// <summary><see cref="PaperMacs"/> in units of 10⁹.</summary>
    public double PaperGMacs => PaperMacs / 1e9;

    /// <summary><see cref="ExecutedMacs"/> in units of 10⁹.</summary>
    public double ExecutedGMacs => ExecutedMacs / 1e9;
}
