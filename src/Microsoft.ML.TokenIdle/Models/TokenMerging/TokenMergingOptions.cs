using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.Models.TokenMerging;

/// <summary>
/// Token merging's settings (ToMe, <c>tome</c>): r pairs merged per layer, constant or by ToMe's (r, inflection)
/// schedule, or an explicit r per layer; and proportional attention.
/// </summary>
public sealed class TokenMergingOptions : IReductionMethodOptions
{
    /// <summary>The method's name: <c>tome</c>.</summary>
    public const string MethodName = "tome";

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <summary>r, the token pairs each layer merges (capped at (N − 1) // 2 of its N tokens); default 8.</summary>
    public int MergedPerLayer { get; set; } = 8;

    /// <summary>ToMe's inflection in [−1, 1]: 0 merges r in every layer, −1 decreases from 2r to 0; default 0.</summary>
    public double Inflection { get; set; }

    /// <summary>One r per layer; replaces <see cref="MergedPerLayer"/> and <see cref="Inflection"/>.</summary>
    public IReadOnlyList<int>? Schedule { get; set; }

    /// <summary>
    /// Whether each key's log(token size) is added to the attention logits; null: the reference's advice — on when
    /// scoring an off-the-shelf model, off when training (a trained classifier keeps the setting it was trained with).
    /// </summary>
    public bool? ProportionalAttention { get; set; }

    /// <inheritdoc/>
    public void Validate(int? depth = null) => BuildSchedule(depth ?? Schedule?.Count ?? 1);

    /// <summary>The per-layer schedule for a model of <paramref name="depth"/> layers.</summary>
    /// <exception cref="ArgumentException">A value is out of range, or the explicit schedule has another length.</exception>
    public MergeSchedule BuildSchedule(int depth)
        => Schedule is null ? MergeSchedule.WithInflection(MergedPerLayer, Inflection, depth) : MergeSchedule.Explicit(Schedule, depth);

    /// <inheritdoc/>
    public IReducedForward CreateForward(VisionTransformerConfig config, bool training)
    {
        var forward = new TokenMergingForward(BuildSchedule(config.Depth), ProportionalAttention ?? !training);
        forward.Plan(config);
        return forward;
    }
}
