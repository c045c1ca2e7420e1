using System.CommandLine;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// The options that choose a token-reduction method: <c>--method</c>, <c>--keep-ratio</c> (or <c>--schedule</c>, or
/// <c>--layers</c>), and for life regression <c>--predictor</c>, <c>--predictor-layer</c> and <c>--steepness</c> — the
/// properties of the method's options (<see cref="TokenReductionOptions"/>) by the same names.
/// </summary>
internal sealed class MethodSource
{
    private static readonly LifeRegressionOptions LifeDefaults = new();

    public Option<string> Method { get; } = new("--method")
    {
        Description = $"token reduction: {string.Join(", ", TokenReductionMethods.Names)}",
        DefaultValueFactory = _ => "full",
    };

    public Option<double> KeepRatio { get; } = new("--keep-ratio", "--keep-rate") { Description = "base keep ratio k in (0, 1] at the method's default layers", DefaultValueFactory = _ => new TokenIdlingOptions().KeepRatio };

    public Option<string?> Schedule { get; } = new("--schedule") { Description = "explicit ratios r0,r1,… one per layer (1 = no reduction there); replaces --keep-ratio" };

    public Option<string?> Layers { get; } = new("--layers") { Description = "the reducing layers l0,l1,… (0-based) at --keep-ratio, instead of the method's" };

    public Option<string?> Predictor { get; } = new("--predictor") { Description = "life regression: predictor weights (safetensors: norm.weight, norm.bias, bilinear.weight), e.g. a train run's best.predictor.safetensors" };

    public Option<int?> PredictorLayer { get; } = new("--predictor-layer") { Description = "life regression: the layer whose output the predictor reads (default: the one before the first slimming layer)" };

    public Option<double?> Steepness { get; } = new("--steepness") { Description = $"life regression: U of the training weights σ(U·(τ − t)) (default {LifeDefaults.Steepness})" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Method, KeepRatio, Schedule, Layers, Predictor, PredictorLayer, Steepness })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The chosen method's name as given on the command line.</summary>
    public string Name(ParseResult result) => TokenReductionMethods.Names[(int)TokenReductionMethods.Parse(result.GetValue(Method)!)];

    /// <summary>
    /// The chosen method's options (null for <c>full</c>); life regression's predictor is loaded for tokens of
    /// <paramref name="config"/>'s width, or made untrained (identity bilinear form), which <paramref name="warnUntrained"/>
    /// says on standard error.
    /// </summary>
    /// <exception cref="ArgumentException">A flag that does not apply to the method, or a value out of range.</exception>
    public TokenReductionOptions? Options(ParseResult result, VisionTransformerConfig config, bool warnUntrained)
    {
        var method = TokenReductionMethods.Parse(result.GetValue(Method)!);
        var schedule = result.GetValue(Schedule) is { } text ? Flagged(result, () => TokenSchedule.Parse(text).Ratios) : null;
        if (method != TokenReductionMethod.Life && new Option[] { Predictor, PredictorLayer, Steepness }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } lifeOnly)
        {
            throw new ArgumentException($"{lifeOnly.Name} applies to --method life only, not {Name(result)}");
        }

        LifePredictor? predictor = null;
        if (method == TokenReductionMethod.Life)
        {
            predictor = new LifePredictor(config.EmbedDim, config.LayerNormEps);
            if (result.GetValue(Predictor) is { } path)
            {
                predictor.LoadWeights(path);
            }
            else if (warnUntrained)
            {
                Console.Error.WriteLine("tokenidle: warning: no --predictor given; life regression ranks patches with the untrained predictor (similarity to the class token)");
            }
        }

        // The full model ignores --keep-ratio (scripts pass the same flags to every method) and refuses a schedule or layers.
        var options = TokenReductionMethods.Options(method, result.GetValue(KeepRatio), schedule, predictor);
        if (options is null)
        {
            return result.GetResult(Layers) is { Implicit: false } ? throw new ArgumentException("the full model takes no --layers") : null;
        }

        options.Layers = result.GetValue(Layers) is { } layers ? Flagged(result, () => layers.Split(',').Select(l => int.Parse(l.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray()) : null;
        if (options is LifeRegressionOptions life)
        {
            life.PredictorLayer = result.GetValue(PredictorLayer);
            life.Steepness = result.GetValue(Steepness) ?? life.Steepness;
        }

        Flagged(result, () => { options.ValidateRatios(); return options; });
        return options;
    }

    /// <summary>
    /// The validated strategy (null for <c>full</c>), with the options of <see cref="Options"/>. The predictor goes to
    /// <paramref name="model"/>'s device and precision when given.
    /// </summary>
    public TokenReductionStrategy? Build(ParseResult result, VisionTransformerConfig config, bool warnUntrained, VisionTransformer? model = null)
    {
        var options = Options(result, config, warnUntrained);
        var strategy = options is null ? null : Flagged(result, () => options.CreateStrategy(config));
        if (model is not null)
        {
            strategy?.PlaceWith(model);
        }

        return strategy;
    }

    /// <summary>
    /// <paramref name="create"/>'s result; its refusal of a keep ratio, schedule or layers (worded after the options)
    /// is prefixed with the flag the user typed for it.
    /// </summary>
    private T Flagged<T>(ParseResult result, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            var flag = new Option[] { Schedule, Layers }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) ?? KeepRatio;
            throw new ArgumentException($"{CommandRunner.Typed(result, flag)}: {e.Message}", e);
        }
    }
}
