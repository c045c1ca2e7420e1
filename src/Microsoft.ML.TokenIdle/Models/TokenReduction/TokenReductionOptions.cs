using System.ComponentModel;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Settings shared by the token-reduction methods: a base keep ratio at the method's default layers
/// (the papers' schedules, scaled for other depths), other layers, or an explicit per-layer schedule.
/// </summary>
public abstract class TokenReductionOptions : IReductionMethodOptions
{
    /// <summary>Base keep ratio k in (0, 1]; default 0.7.</summary>
    public double KeepRatio { get; set; } = 0.7;

    /// <summary>The older spelling of <see cref="KeepRatio"/> (still read from saved trainer recipes).</summary>
    [Obsolete("Use KeepRatio.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public double KeepRate
    {
        get => KeepRatio;
        set => KeepRatio = value;
    }

    /// <summary>The method's name as the CLI, saved models and reports spell it (e.g. <c>idle</c>).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>The reducing layers; null for the method's default for the model's depth.</summary>
    public IReadOnlyList<int>? Layers { get; set; }

    /// <summary>One ratio per layer (1 = no reduction); replaces <see cref="KeepRate"/> and <see cref="Layers"/>.</summary>
    public IReadOnlyList<double>? Schedule { get; set; }

    /// <summary>The per-layer schedule these options describe for a model of <paramref name="depth"/> layers.</summary>
    /// <exception cref="ArgumentException">Both a schedule and layers are given, or a value is invalid.</exception>
    public TokenSchedule BuildSchedule(int depth)
    {
        if (Schedule is not null)
        {
            if (Layers is not null)
            {
                throw new ArgumentException("give either an explicit per-layer schedule or reduction layers with a keep rate, not both");
            }

            var explicitSchedule = new TokenSchedule(Schedule);
            explicitSchedule.CheckDepth(depth);
            return explicitSchedule;
        }

        ValidateRatios();
        var layers = Layers ?? DefaultLayers(depth);
        return TokenSchedule.AtLayers(depth, layers, LayerRatios(layers.Count));
    }

    /// <summary>Checks what can be checked without the model's depth: the keep ratio, the schedule's ratios, and not both a schedule and layers.</summary>
    /// <exception cref="ArgumentException">A value is invalid; the message names it.</exception>
    public void ValidateRatios()
    {
        if (Schedule is not null)
        {
            if (Layers is not null)
            {
                throw new ArgumentException("give either an explicit per-layer schedule or reduction layers with a keep ratio, not both");
            }

            _ = new TokenSchedule(Schedule);
            return;
        }

        if (!(KeepRatio > 0 && KeepRatio <= 1))
        {
            throw new ArgumentException($"keep ratio {KeepRatio} is outside (0, 1]");
        }
    }

    /// <inheritdoc/>
    void IReductionMethodOptions.Validate(int? depth)
    {
        if (depth is { } layers)
        {
            BuildSchedule(layers);
        }
        else
        {
            ValidateRatios();
        }
    }

    /// <inheritdoc/>
    IReducedForward IReductionMethodOptions.CreateForward(VisionTransformerConfig config, bool training) => CreateStrategy(config);

    /// <summary>The method with these settings for a model of <paramref name="config"/>'s shape (validated).</summary>
    public TokenReductionStrategy CreateStrategy(VisionTransformerConfig config)
    {
        var strategy = Create(config, BuildSchedule(config.Depth));
        strategy.Plan(config);
        return strategy;
    }

    /// <summary>The method's default reducing layers for <paramref name="depth"/> layers.</summary>
    protected abstract IReadOnlyList<int> DefaultLayers(int depth);

    /// <summary>The ratios of the reducing layers, in layer order; default: the base rate at each.</summary>
    protected virtual IReadOnlyList<double> LayerRatios(int count) => Enumerable.Repeat(KeepRatio, count).ToArray();

    /// <summary>Pairs the method's selector and reduction under <paramref name="schedule"/>.</summary>
    protected abstract TokenReductionStrategy Create(VisionTransformerConfig config, TokenSchedule schedule);
}
