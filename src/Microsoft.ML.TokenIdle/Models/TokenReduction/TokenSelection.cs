using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>Turns scores into the kept tokens of one layer and records them; shared by the reductions.</summary>
internal static class TokenSelection
{
    /// <summary>Per image, the indices [B, k] (int64, on the scores' device) of the k highest scores among the non-class tokens, highest first (libtorch's topk, as the references).</summary>
    public static Tensor TopIndices(Tensor scores, int k) => scores.detach().topk(k, dim: 1, largest: true, sorted: true).indexes;

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
