using Microsoft.ML.TokenIdle.Models.TokenReduction;
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
public sealed partial class TokenMergingForward : IReducedForward
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

    /// <inheritdoc/>
    public LifePredictor? Predictor => null;

    /// <inheritdoc/>
    public void PlaceWith(VisionTransformer model)
    {
    }

    /// <summary>
    /// Per block: attention at the tokens entering it, the MLP at those left after its r merges (the r merged tokens'
    /// sums counted as fused tokens).
    /// </summary>
    /// <exception cref="ArgumentException">The schedule has another depth than the model.</exception>
    public IReadOnlyList<LayerTokenCounts> Plan(VisionTransformerConfig config)
    {
        CheckDepth(config.Depth);
        var tokensIn = config.NumPatches + 1;
        var layers = new LayerTokenCounts[config.Depth];
        foreach (var (layer, tokensOut) in Schedule.TokensAfterLayers(tokensIn).Index())
        {
            layers[layer] = new LayerTokenCounts(tokensIn, tokensIn, tokensIn, tokensOut, tokensOut, tokensIn - tokensOut, tokensOut < tokensIn);
            tokensIn = tokensOut;
        }

        return layers;
    }

    /// <summary>Training merges as scoring does: no layer masks keys.</summary>
    public IReadOnlyList<TrainingLayerTokens> TrainingPlan(VisionTransformerConfig config)
        => Plan(config).Select(c => new TrainingLayerTokens(c, false)).ToArray();

    /// <summary>The matching's similarity products: the even-position tokens' head-averaged keys against the odd ones'.</summary>
    public long ReductionMacs(int layer, LayerTokenCounts counts, VisionTransformerConfig config)
        => counts.Reducing ? (long)((counts.TokensIn + 1) / 2) * (counts.TokensIn / 2) * (config.EmbedDim / config.NumHeads) : 0;

    /// <summary>
    /// The tokens after the last block. A trace gets a record per merging layer; one made with selections also gets,
    /// per image and patch, the token that holds the patch after the layer (the reference's source tracking).
    /// </summary>
    /// <exception cref="ArgumentException">The schedule has another depth than the model.</exception>
    public Tensor FinalTokens(VisionTransformer model, Tensor images, TokenReductionTrace? trace = null)
    {
        CheckDepth(model.Blocks.Count);
        var x = model.Embed(images);
        var size = ones(x.shape[0], x.shape[1], 1, dtype: x.dtype, device: x.device);

        // Which patches each token holds, [B, N, patches] (the class token none): tracked only for a picture.
        var holds = trace is { Selections: true } ? PatchMembership(x) : null;
        for (var layer = 0; layer < model.Blocks.Count; layer++)
        {
            using var scope = NewDisposeScope();
            var tokensIn = (int)x.shape[1];
            var r = Schedule.MergedAt(layer, tokensIn);
            (x, size, holds) = Block(model.Blocks[layer], x, size, holds, r);
            x.MoveToOuterDisposeScope();
            size.MoveToOuterDisposeScope();
            holds?.MoveToOuterDisposeScope();
            if (trace is not null && r > 0)
            {
                var record = new TokenReductionRecord(layer, tokensIn, tokensIn - r, tokensIn - r - 1) { Merges = true };
                trace.AddMerge(record, holds?.argmax(1));
            }
        }

        trace?.CompletePass();
        return x;
    }

    /// <summary>One block: attention (proportional to sizes when asked), then r merges, then the MLP.</summary>
    private (Tensor X, Tensor Size, Tensor? Holds) Block(Block block, Tensor x, Tensor size, Tensor? holds, int r)
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
            holds = holds is null ? null : matching.Merge(holds);
        }

        return (block.MlpResidual(x), size, holds);
    }

    /// <summary>[B, N, patches]: token 1 + p holds patch p; the class token holds none.</summary>
    private static Tensor PatchMembership(Tensor tokens)
    {
        var (b, n) = (tokens.shape[0], tokens.shape[1]);
        var identity = eye(n - 1, dtype: ScalarType.Float32, device: tokens.device);
        return cat(new[] { zeros(1, n - 1, dtype: ScalarType.Float32, device: tokens.device), identity }, 0).unsqueeze(0).expand(b, -1, -1);
    }

    private void CheckDepth(int depth)
    {
        if (Schedule.PerLayer.Count != depth)
        {
            throw new ArgumentException($"the merge schedule has {Schedule.PerLayer.Count} entries for a model of {depth} layers");
        }
    }
}
