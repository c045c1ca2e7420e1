using Microsoft.ML.TokenIdle.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenMerging;

/// <summary>
/// Token merging (ToMe; Bolya et al., ICLR 2023): in each block, between attention and the MLP, the r most similar
/// token pairs merge (bipartite soft matching on the attention's keys averaged over heads), as size-weighted averages
/// whose sizes add; with proportional attention each key's log(size) is added to the attention logits. The class token
/// never merges. Written from the paper's description and the reference fixtures (../shared/fixtures/tome).
/// </summary>
public sealed class TokenMergingForward
{
    /// <summary>A forward pass that merges by <paramref name="schedule"/>.</summary>
    public TokenMergingForward(MergeSchedule schedule, bool proportionalAttention)
    {
        Schedule = schedule;
        ProportionalAttention = proportionalAttention;
    }

    /// <summary>Pairs merged per layer.</summary>
    public MergeSchedule Schedule { get; }

    /// <summary>Whether each key's log(size) is added to the attention logits.</summary>
    public bool ProportionalAttention { get; }

    /// <summary>Logits [B, classes] of <paramref name="images"/>; <paramref name="tokensAfterLayers"/> receives each block's token count.</summary>
    /// <exception cref="ArgumentException">The schedule has another depth than the model.</exception>
    public Tensor Forward(VisionTransformer model, Tensor images, IList<int>? tokensAfterLayers = null)
    {
        if (Schedule.PerLayer.Count != model.Blocks.Count)
        {
            throw new ArgumentException($"the merge schedule has {Schedule.PerLayer.Count} entries for a model of {model.Blocks.Count} layers");
        }

        var x = model.Embed(images);
        var size = ones(x.shape[0], x.shape[1], 1, dtype: x.dtype, device: x.device);
        for (var layer = 0; layer < model.Blocks.Count; layer++)
        {
            using var scope = NewDisposeScope();
            (x, size) = Block(model.Blocks[layer], x, size, Schedule.MergedAt(layer, (int)x.shape[1]));
            x.MoveToOuterDisposeScope();
            size.MoveToOuterDisposeScope();
            tokensAfterLayers?.Add((int)x.shape[1]);
        }

        return model.Classify(x);
    }

    /// <summary>One block: attention (proportional to sizes when asked), then r merges, then the MLP.</summary>
    private (Tensor X, Tensor Size) Block(Block block, Tensor x, Tensor size, int r)
    {
        var qkv = block.Attn.QueryKeyValue(block.Norm1.forward(x));
        var keyBias = ProportionalAttention ? size.squeeze(-1).log() : null;
        x = block.Residual(x, block.Attn.FromQkv(qkv, keyBias));
        if (r > 0)
        {
            var (b, n, e) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3);
            var keys = qkv.narrow(-1, e, e).reshape(b, n, block.Attn.Heads, e / block.Attn.Heads).mean(new long[] { 2 });
            var matching = BipartiteMatching.Of(keys, r);
            var merged = matching.Merge(x * size);
            size = matching.Merge(size);
            x = merged / size;
        }

        return (block.MlpResidual(x), size);
    }
}
