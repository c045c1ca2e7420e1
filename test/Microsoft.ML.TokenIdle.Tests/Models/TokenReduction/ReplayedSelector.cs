using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

/// <summary>
/// A selector that keeps the tokens a traced pass kept: <paramref name="inner"/>'s scores with the traced kept tokens
/// raised far above every other in their traced order, so the same tokens win the top-k in the same order while the
/// other tokens keep their real scores (EViT's fusion weights). Lets a reduced-precision pass be compared with float32 on rounding alone: on random weights some
/// scores nearly tie, and another precision may swap such a pair — a different function, not a rounding error.
/// </summary>
internal sealed class ReplayedSelector(ITokenSelector inner, TokenReductionTrace trace) : ITokenSelector
{
    public string Name => $"replayed {inner.Name}";

    public TokenState Prepare(int layer, TokenState state) => inner.Prepare(layer, state);

    public Tensor Score(int layer, TokenState state, Tensor normed, Attention attention)
    {
        var record = trace[layer];
        var scores = inner.Score(layer, state, normed, attention);
        var k = record.KeptPerImage;
        using var kept = tensor(record.Kept.Select(i => (long)i).ToArray(), new long[] { state.Batch, k }, device: scores.device);
        using var raised = tensor(record.Kept.Select((_, i) => Raised(k - 1 - i % k)).ToArray(), new long[] { state.Batch, k }, device: scores.device);
        return scores.scatter(1, kept, raised.to_type(scores.dtype));
    }

    // The rank-th of 256 increasing values above 4096 that bfloat16 (7 stored mantissa bits) holds exactly: 128 steps
    // of [4096, 8192), then 128 of [8192, 16384); so the traced order survives in every precision (k ≤ 256).
    private static float Raised(int rank)
        => rank < 128 ? 4096f * (1 + rank / 128f) : rank < 256 ? 8192f * (1 + (rank - 128) / 128f) : throw new ArgumentOutOfRangeException(nameof(rank), rank, "at most 256 kept tokens");

    public Tensor? SoftKeyWeights(int layer, TokenState state) => inner.SoftKeyWeights(layer, state);

    public long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config) => inner.SelectionMacs(layer, tokens, reducing, config);
}
