using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>Turns scores into the kept tokens of one layer and records them; shared by the reductions.</summary>
internal static class TokenSelection
{
    /// <summary>Per image, the indices [B, k] (int64, on the scores' device) of the k highest scores among the non-class tokens, highest first (libtorch's topk, as the references).</summary>
    public static Tensor TopIndices(Tensor scores, int k) => scores.detach().topk(k, dim: 1, largest: true, sorted: true).indexes;

    /// <summary>
    /// Per image, the rows [B, m, E] of <paramref name="tokens"/> [B, N, E] at <paramref name="positions"/> [B, m]: whole
    /// rows copied by one index_select over the flattened batch, several times faster than an element-wise gather with
    /// an expanded index (0.61 against 1.81 ms, medians, for a DeiT-S idle layer at batch 32: docs/benchmarks.md); differentiable.
    /// </summary>
    public static Tensor Rows(Tensor tokens, Tensor positions)
        => tokens.reshape(-1, tokens.shape[2]).index_select(0, FlatPositions(positions, tokens.shape[1])).reshape(positions.shape[0], positions.shape[1], tokens.shape[2]);

    /// <summary><paramref name="tokens"/> [B, N, E] with the rows at <paramref name="positions"/> [B, m] replaced by <paramref name="rows"/> [B, m, E] (a new tensor; index_copy over the flattened batch).</summary>
    public static Tensor WithRows(Tensor tokens, Tensor positions, Tensor rows)
        => tokens.reshape(-1, tokens.shape[2]).index_copy(0, FlatPositions(positions, tokens.shape[1]), rows.reshape(-1, tokens.shape[2])).reshape(tokens.shape);

    // Row numbers in the flattened [B·N] batch: b·N + position.
    private static Tensor FlatPositions(Tensor positions, long n)
        => (positions + arange(positions.shape[0], dtype: ScalarType.Int64, device: positions.device).unsqueeze(1) * n).flatten();

    /// <summary>Adds the layer's record to the trace, if any (its tensors kept past the block's dispose scope).</summary>
    public static void Record(TokenReductionTrace? trace, int layer, TokenState input, Tensor kept, int tokensOut, Tensor? qkv = null, Tensor? activeMask = null, int heads = 0)
    {
        if (trace is null)
        {
            return;
        }

        qkv?.MoveToOuterDisposeScope();
        activeMask?.MoveToOuterDisposeScope();
        var record = new TokenReductionRecord(layer, input.Count, tokensOut, (int)kept.shape[1]) { Qkv = qkv, ActiveMask = activeMask, Heads = heads };
        trace.Add(record, trace.Selections ? cat(new[] { kept, input.Sources.gather(1, kept + 1) }, 1).MoveToOuterDisposeScope() : null);
    }
}
