using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>Turns scores into the kept tokens of one layer and records them; shared by the reductions.</summary>
internal static class TokenSelection
{
    /// <summary>Per image, the indices [B·k] of the k highest scores among the non-class tokens, highest first (libtorch's topk, as the references).</summary>
    public static int[] TopIndices(Tensor scores, int k)
    {
        using var indices = scores.detach().topk(k, dim: 1, largest: true, sorted: true).indexes.cpu();
        return indices.data<long>().Select(i => (int)i).ToArray();
    }

    /// <summary>Per image, the non-class indices [B·(n−k)] not in <paramref name="kept"/>, ascending.</summary>
    public static int[] Complement(int[] kept, int batch, int n)
    {
        var k = kept.Length / batch;
        var dropped = new int[batch * (n - k)];
        var isKept = new bool[n];
        for (var b = 0; b < batch; b++)
        {
            Array.Clear(isKept);
            for (var j = 0; j < k; j++)
            {
                isKept[kept[b * k + j]] = true;
            }

            var at = b * (n - k);
            for (var i = 0; i < n; i++)
            {
                if (!isKept[i])
                {
                    dropped[at++] = i;
                }
            }
        }

        return dropped;
    }

    /// <summary>Adds the layer's record to the trace, if any (its tensors kept past the block's dispose scope).</summary>
    public static void Record(TokenReductionTrace? trace, int layer, TokenState input, int[] kept, int tokensOut, Tensor? qkv = null, Tensor? activeMask = null, int heads = 0)
    {
        if (trace is null)
        {
            return;
        }

        var k = kept.Length / input.Batch;
        var sources = new int[kept.Length];
        for (var i = 0; i < kept.Length; i++)
        {
            sources[i] = input.Sources[i / k * input.Count + 1 + kept[i]];
        }

        qkv?.MoveToOuterDisposeScope();
        activeMask?.MoveToOuterDisposeScope();
        trace.Add(new TokenReductionRecord(layer, input.Count, tokensOut, kept, sources, input.Batch) { Qkv = qkv, ActiveMask = activeMask, Heads = heads });
    }
}
