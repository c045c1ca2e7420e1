using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenMerging;

/// <summary>
/// ToMe's bipartite soft matching of one layer: tokens at even positions (A, the class token first) against those at
/// odd positions (B) by the cosine similarity of their metric; each A token's best B match; the r A tokens with the
/// best matches merge into them (the class token never). Which tokens merge where carries no gradient.
/// </summary>
internal sealed class BipartiteMatching
{
    private readonly Tensor _kept;        // [B, Na − r, 1]: the A tokens that stay, in position order
    private readonly Tensor _merged;      // [B, r, 1]: the A tokens that merge
    private readonly Tensor _destination; // [B, r, 1]: their B tokens

    private BipartiteMatching(Tensor kept, Tensor merged, Tensor destination) => (_kept, _merged, _destination) = (kept, merged, destination);

    /// <summary>The matching of tokens with <paramref name="metric"/> [B, N, C] that merges <paramref name="r"/> pairs.</summary>
    public static BipartiteMatching Of(Tensor metric, int r)
    {
        using var _ = no_grad();
        var normalised = metric / metric.norm(-1, keepdim: true);
        var a = normalised[.., TensorIndex.Slice(0, null, 2)];
        var b = normalised[.., TensorIndex.Slice(1, null, 2)];
        var scores = a.matmul(b.transpose(-1, -2));
        scores[.., 0].fill_(double.NegativeInfinity);
        var (best, match) = scores.max(-1);
        var order = best.argsort(-1, descending: true).unsqueeze(-1);
        var kept = order[.., TensorIndex.Slice(r, null)].sort(1).Values;
        var merged = order[.., TensorIndex.Slice(null, r)];
        var destination = match.unsqueeze(-1).gather(1, merged);
        return new BipartiteMatching(kept, merged, destination);
    }

    /// <summary>Tokens [B, N, C] after the merge, summed into their destinations: the kept A tokens, then every B token.</summary>
    public Tensor Merge(Tensor x)
    {
        var channels = x.shape[2];
        var a = x[.., TensorIndex.Slice(0, null, 2)];
        var b = x[.., TensorIndex.Slice(1, null, 2)];
        var kept = a.gather(1, _kept.expand(-1, -1, channels));
        var sources = a.gather(1, _merged.expand(-1, -1, channels));
        return cat(new[] { kept, b.scatter_add(1, _destination.expand(-1, -1, channels), sources) }, 1);
    }
}
