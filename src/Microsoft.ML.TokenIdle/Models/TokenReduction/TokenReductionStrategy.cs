using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// A token-reduction method: a selector paired with a reduction under a per-layer schedule. EViT,
/// IdleViT and life regression are three pairings; any other pairing runs the same way (e.g. life
/// predictor selection with idling). The same object scores and trains: reductions follow the
/// blocks' training mode.
/// </summary>
public sealed class TokenReductionStrategy : IReducedForward, IOnnxReducedForward
{
    /// <summary>Pairs a selector with a reduction.</summary>
    public TokenReductionStrategy(ITokenSelector selector, ITokenReduction reduction, TokenSchedule schedule)
    {
        Selector = selector;
        Reduction = reduction;
        Schedule = schedule;
    }

    /// <summary>Which tokens matter.</summary>
    public ITokenSelector Selector { get; }

    /// <summary>What happens to the others.</summary>
    public ITokenReduction Reduction { get; }

    /// <summary>Keep ratio per layer.</summary>
    public TokenSchedule Schedule { get; }

    /// <summary>"selector+reduction".</summary>
    public string Name => $"{Selector.Name}+{Reduction.Name}";

    /// <summary>
    /// Puts the strategy's own weights (life regression's predictor) on <paramref name="model"/>'s device and in its
    /// number format: the one place that keeps them together whenever the model moves or changes precision.
    /// </summary>
    public void PlaceWith(VisionTransformer model) => Predictor?.to(model.Device).to(model.ClsToken.dtype);

    /// <summary>The strategy's own weights: life regression's predictor, or null for the methods that have none.</summary>
    public LifePredictor? Predictor => (Selector as LifeRegressionSelector)?.Predictor;

    /// <summary>
    /// The token counts of every block when scoring a model of <paramref name="config"/>'s shape;
    /// also the schedule's validation.
    /// </summary>
    /// <exception cref="ArgumentException">The schedule has the wrong length or a layer would keep no token.</exception>
    public IReadOnlyList<LayerTokenCounts> Plan(VisionTransformerConfig config) => Schedule.Plan(Reduction, config);

    /// <summary>
    /// Per layer of a training forward of a model of <paramref name="config"/>'s shape: the tokens it runs and whether
    /// it masks keys over all of them. A masked layer removes no token (IdleViT's idle layers, life regression's soft
    /// lifetimes), so the layers after it run more tokens in training than when scoring.
    /// </summary>
    public IReadOnlyList<TrainingLayerTokens> TrainingPlan(VisionTransformerConfig config)
    {
        var scoring = Plan(config);
        var plan = new TrainingLayerTokens[scoring.Count];
        var tokens = config.NumPatches + 1;
        for (var layer = 0; layer < scoring.Count; layer++)
        {
            var masked = Reduction.MasksKeysInTraining(layer, scoring[layer], Selector);
            var counts = masked ? LayerTokenCounts.Plain(tokens) : Reduction.Plan(Schedule.Ratios[layer], tokens);
            plan[layer] = new TrainingLayerTokens(counts, masked);
            tokens = counts.TokensOut;
        }

        return plan;
    }

    /// <summary>The tokens after the last block (class token first); each block runs in its own dispose scope.</summary>
    public TokenState ForwardTokens(VisionTransformer model, Tensor images, TokenReductionTrace? trace = null)
    {
        Plan(model.Config);
        var state = TokenState.FromEmbedding(model.Embed(images));
        for (var layer = 0; layer < model.Blocks.Count; layer++)
        {
            using var scope = NewDisposeScope();
            var prepared = Selector.Prepare(layer, state);
            if (trace is { Selections: true } && state.Priority is null && prepared.Priority is { } priority)
            {
                // Patches are still in order (the first reduction follows): drop the class token's column.
                trace.SetPatchPriorities(layer, priority[.., 1..]);
            }

            state = Reduction.Run(model.Blocks[layer], layer, Schedule.Ratios[layer], prepared, Selector, trace).MoveToOuterDisposeScope();
        }

        trace?.CompletePass();
        return state;
    }

    /// <summary>Each block as its selector and reduction write it (a part without a graph form is refused before anything is written).</summary>
    OnnxTokens IOnnxReducedForward.WriteBlocks(IOnnxNetworkWriter writer, VisionTransformer model, OnnxTokens tokens)
    {
        Plan(model.Config);
        var selector = Selector as IOnnxTokenSelector ?? throw new ArgumentException($"ONNX export: the token selector '{Selector.Name}' has no ONNX form");
        var reduction = Reduction as IOnnxTokenReduction ?? throw new ArgumentException($"ONNX export: the token reduction '{Reduction.Name}' has no ONNX form");
        for (var layer = 0; layer < model.Blocks.Count; layer++)
        {
            tokens = reduction.WriteBlock(writer, model.Blocks[layer], layer, Schedule.Ratios[layer], selector.WritePrepare(writer, layer, tokens), selector);
        }

        return tokens;
    }

    /// <inheritdoc/>
    public Tensor FinalTokens(VisionTransformer model, Tensor images, TokenReductionTrace? trace = null) => ForwardTokens(model, images, trace).Tokens;

    /// <inheritdoc/>
    public long ReductionMacs(int layer, LayerTokenCounts counts, VisionTransformerConfig config) => Selector.SelectionMacs(layer, counts.TokensIn, counts.Reducing, config);
}
