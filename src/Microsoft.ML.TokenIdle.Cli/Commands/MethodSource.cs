using System.CommandLine;
using Microsoft.ML.TokenIdle.Models;
using System.Globalization;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
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

    /// <summary>The name of token merging (ToMe) on the command line.</summary>
    public const string TokenMergingName = TokenMergingOptions.MethodName;

    public Option<string> Method { get; } = new("--method")
    {
        Description = $"token reduction: {string.Join(", ", TokenReductionMethods.Names)}, or {TokenMergingName} (token merging)",
        DefaultValueFactory = _ => "full",
    };

    public Option<string?> Merge { get; } = new("--merge") { Description = $"tome: pairs merged per layer, R (the same in every layer; default {new TokenMergingOptions().MergedPerLayer}) or R,INFLECTION (ToMe's schedule; -1 = decreasing from 2R to 0)" };

    public Option<string?> MergeSchedule { get; } = new("--merge-schedule") { Description = "tome: pairs merged in each layer, r0,r1,… one per layer; replaces --merge" };

    public Option<bool?> ProportionalAttention { get; } = new("--proportional-attention") { Description = "tome: add log(token size) to the attention logits (default: on when scoring, off when training, as the reference advises; a saved model keeps its own)" };

    public Option<double> KeepRatio { get; } = new("--keep-ratio", "--keep-rate") { Description = "base keep ratio k in (0, 1] at the method's default layers", DefaultValueFactory = _ => new TokenIdlingOptions().KeepRatio };

    public Option<string?> Schedule { get; } = new("--schedule") { Description = "explicit ratios r0,r1,… one per layer (1 = no reduction there); replaces --keep-ratio" };

    public Option<string?> Layers { get; } = new("--layers") { Description = "the reducing layers l0,l1,… (0-based) at --keep-ratio, instead of the method's" };

    public Option<string?> Predictor { get; } = new("--predictor") { Description = "life regression: predictor weights (safetensors: norm.weight, norm.bias, bilinear.weight), e.g. a train run's best.predictor.safetensors" };

    public Option<int?> PredictorLayer { get; } = new("--predictor-layer") { Description = "life regression: the layer whose output the predictor reads (default: the one before the first slimming layer)" };

    public Option<double?> Steepness { get; } = new("--steepness") { Description = $"life regression: U of the training weights σ(U·(τ − t)) (default {LifeDefaults.Steepness})" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Method, KeepRatio, Schedule, Layers, Predictor, PredictorLayer, Steepness, Merge, MergeSchedule, ProportionalAttention })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The chosen method's name as given on the command line.</summary>
    public string Name(ParseResult result) => Merges(result) ? TokenMergingName : TokenReductionMethods.Names[(int)TokenReductionMethods.Parse(result.GetValue(Method)!)];

    /// <summary>Whether the chosen method is token merging (ToMe).</summary>
    public bool Merges(ParseResult result) => result.GetValue(Method)!.Trim().Equals(TokenMergingName, StringComparison.OrdinalIgnoreCase);

    /// <summary>Token merging's options as <c>--merge</c> or <c>--merge-schedule</c> and <c>--proportional-attention</c> say.</summary>
    /// <exception cref="ArgumentException">A flag of another method, or a value out of range (prefixed by its flag).</exception>
    private TokenMergingOptions MergingOptions(ParseResult result, VisionTransformerConfig config)
    {
        if (new Option[] { Schedule, Layers, Predictor, PredictorLayer, Steepness }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } other)
        {
            throw new ArgumentException($"{other.Name} does not apply to --method {TokenMergingName} (its flags: --merge, --merge-schedule, --proportional-attention)");
        }

        var options = new TokenMergingOptions { ProportionalAttention = result.GetValue(ProportionalAttention) };
        if (result.GetValue(MergeSchedule) is { } list)
        {
            options.Schedule = Prefixed(result, MergeSchedule, () => Integers(list));
        }
        else if (result.GetValue(Merge) is { } merge)
        {
            Prefixed(result, Merge, () =>
            {
                var parts = merge.Split(',');
                options.MergedPerLayer = parts.Length is 1 or 2 ? Integers(parts[0])[0] : throw new FormatException($"'{merge}' is neither R nor R,INFLECTION");
                options.Inflection = parts.Length == 2 ? double.Parse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) : 0;
                return options;
            });
        }

        Prefixed(result, MergeFlag(result), () => { options.Validate(config.Depth); return options; });
        return options;
    }

    // The flag that set token merging's schedule (--merge when none was typed: its default is the options' own).
    private Option MergeFlag(ParseResult result) => result.GetResult(MergeSchedule) is { Implicit: false } ? MergeSchedule : Merge;

    /// <summary>
    /// For a saved model zip, which carries its own method: the options to score it with instead when <c>--method</c> is
    /// typed (made for the zip's architecture), or null when it is not.
    /// </summary>
    /// <exception cref="ArgumentException">Another method flag is typed without <c>--method</c>.</exception>
    public Func<VisionTransformerConfig, IReductionMethodOptions?>? Typed(ParseResult result)
    {
        var flags = new Option[] { KeepRatio, Schedule, Layers, Predictor, PredictorLayer, Steepness, Merge, MergeSchedule, ProportionalAttention };
        if (result.GetResult(Method) is { Implicit: false })
        {
            return config => Options(result, config, warnUntrained: true);
        }

        return flags.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } flag
            ? throw new ArgumentException($"{flag.Name} applies to a model.zip only with --method (the zip scores with its own method unless --method names another)")
            : null;
    }

    private static int[] Integers(string text) => text.Split(',').Select(t => int.Parse(t.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToArray();

    /// <summary><paramref name="create"/>'s result; its refusal is prefixed with <paramref name="flag"/> as the user typed it.</summary>
    private static T Prefixed<T>(ParseResult result, Option flag, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw new ArgumentException($"{CommandRunner.Typed(result, flag)}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The chosen method's options (null for <c>full</c>); life regression's predictor is loaded for tokens of
    /// <paramref name="config"/>'s width, or made untrained (identity bilinear form), which <paramref name="warnUntrained"/>
    /// says on standard error.
    /// </summary>
    /// <exception cref="ArgumentException">A flag that does not apply to the method, or a value out of range.</exception>
    public IReductionMethodOptions? Options(ParseResult result, VisionTransformerConfig config, bool warnUntrained)
    {
        if (Merges(result))
        {
            return MergingOptions(result, config);
        }

        if (new Option[] { Merge, MergeSchedule, ProportionalAttention }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } tomeOnly)
        {
            throw new ArgumentException($"{tomeOnly.Name} applies to --method {TokenMergingName} only, not {Name(result)}");
        }

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
    /// The validated method (null for <c>full</c>), with the options of <see cref="Options"/>, to be trained or scored
    /// (<paramref name="training"/>: token merging's proportional attention defaults off). Its own weights go to
    /// <paramref name="model"/>'s device and precision when given.
    /// </summary>
    public IReducedForward? Build(ParseResult result, VisionTransformerConfig config, bool warnUntrained, VisionTransformer? model = null, bool training = false)
    {
        var options = Options(result, config, warnUntrained);
        var method = options is null ? null
            : options is TokenMergingOptions ? Prefixed(result, MergeFlag(result), () => options.CreateForward(config, training))
            : Flagged(result, () => options.CreateForward(config, training));
        if (model is not null)
        {
            method?.PlaceWith(model);
        }

        return method;
    }

    /// <summary>
    /// <paramref name="create"/>'s result; its refusal of a keep ratio, schedule or layers (worded after the options)
    /// is prefixed with the flag the user typed for it.
    /// </summary>
    private T Flagged<T>(ParseResult result, Func<T> create)
        => Prefixed(result, new Option[] { Schedule, Layers }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) ?? KeepRatio, create);
}
