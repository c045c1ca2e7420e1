using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>Turns scores into the kept tokens of one layer and records them; shared by the reductions.</summary>
internal static class TokenSelection
{
    /// <summary>Per image, the indices [B, k] (int64, on the scores' device) of the k highest scores among the non-class tokens, highest first (libtorch's topk, as the references).</summary>
    public static Tensor TopIndices(Tensor scores, int k) => scores.detach().topk(k, dim: 1, largest: true, sorted: true).indexes;

    /// <summary>
    /// The row numbers [B, m] in the flattened [B·N] batch of sequence positions [B, m] (b·N + position): what
    /// <see cref="Rows"/> and <see cref="WithRows"/> take, made once for every copy at the same positions.
    /// </summary>
    public static Tensor RowIndex(Tensor positions, long n)
        => positions + arange(positions.shape[0], dtype: ScalarType.Int64, device: positions.device).unsqueeze(1) * n;

    /// <summary>
    /// Per image, the rows [B, m, E] of <paramref name="tokens"/> [B, N, E] at <paramref name="rowIndex"/> (<see cref="RowIndex"/>): whole
    /// rows copied by one index_select over the flattened batch, several times faster than an element-wise gather with
    /// an expanded index (0.63 against 2.40 ms, medians, for a DeiT-S idle layer at batch 32: docs/benchmarks.md); differentiable.
    /// </summary>
    public static Tensor Rows(Tensor tokens, Tensor rowIndex)
        => tokens.reshape(-1, tokens.shape[2]).index_select(0, rowIndex.flatten()).reshape(rowIndex.shape[0], rowIndex.shape[1], tokens.shape[2]);

    /// <summary><paramref name="tokens"/> [B, N, E] with the rows at <paramref name="rowIndex"/> (<see cref="RowIndex"/>) replaced by <paramref name="rows"/> [B, m, E] (a new tensor; index_copy over the flattened batch).</summary>
    public static Tensor WithRows(Tensor tokens, Tensor rowIndex, Tensor rows)
        => tokens.reshape(-1, tokens.shape[2]).index_copy(0, rowIndex.flatten(), rows.reshape(-1, tokens.shape[2])).reshape(tokens.shape);

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
