using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// A token-reduction method: a selector paired with a reduction under a per-layer schedule. EViT,
/// IdleViT and life regression are three pairings; any other pairing runs the same way (e.g. life
/// predictor selection with idling). The same object scores and trains: reductions follow the
/// blocks' training mode.
/// </summary>
public sealed class TokenReductionStrategy
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
    /// The token counts of every block when scoring a model of <paramref name="config"/>'s shape;
    /// also the schedule's validation.
    /// </summary>
    /// <exception cref="ArgumentException">The schedule has the wrong length or a layer would keep no token.</exception>
    public IReadOnlyList<LayerTokenCounts> Plan(VisionTransformerConfig config) => Schedule.Plan(Reduction, config);

    /// <summary>The tokens after the last block (class token first).</summary>
    public TokenState ForwardTokens(VisionTransformer model, Tensor images, TokenReductionTrace? trace = null)
    {
        Plan(model.Config);
        var state = TokenState.FromEmbedding(model.Embed(images));
        for (var t = 0; t < model.Blocks.Count; t++)
        {
            var (layer, input) = (t, state);
            state = TensorScope.Run(
                () =>
                {
                    var prepared = Selector.Prepare(layer, input);
                    if (trace is not null && input.Priority is null && prepared.Priority is { } priority)
                    {
                        // Patches are still in order (the first reduction follows): drop the class token's column.
                        var (batch, count) = (priority.Size(0), priority.Size(1));
                        var patches = new float[batch * (count - 1)];
                        for (var b = 0; b < batch; b++)
                        {
                            priority.Data.Slice(b * count + 1, count - 1).CopyTo(patches.AsSpan(b * (count - 1)));
                        }

                        trace.SetPatchPriorities(layer, patches);
                    }

                    return Reduction.Run(model.Blocks[layer], layer, Schedule.Ratios[layer], prepared, Selector, trace);
                },
                s => new[] { s.Tokens, s.Priority });
        }

        return state;
    }

    /// <summary>Logits [B, classes] of the reduced forward pass.</summary>
    public Tensor Forward(VisionTransformer model, Tensor images, TokenReductionTrace? trace = null)
        => model.Classify(ForwardTokens(model, images, trace).Tokens);

}
