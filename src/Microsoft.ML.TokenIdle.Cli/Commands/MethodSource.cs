using System.CommandLine;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using TorchSharp;

namespace TokenIdle.Cli.Commands;

/// <summary>The options that choose a token-reduction method: <c>--method</c>, <c>--keep-rate</c>, <c>--schedule</c>, <c>--predictor</c>.</summary>
internal sealed class MethodSource
{
    public Option<string> Method { get; } = new("--method")
    {
        Description = $"token reduction: {string.Join(", ", TokenReductionMethods.Names)}",
        DefaultValueFactory = _ => "full",
    };

    public Option<double> KeepRate { get; } = new("--keep-rate") { Description = "base keep ratio k in (0, 1] at the method's default layers", DefaultValueFactory = _ => 0.7 };

    public Option<string?> Schedule { get; } = new("--schedule") { Description = "explicit ratios r0,r1,… one per layer (1 = no reduction there); replaces --keep-rate" };

    public Option<string?> Predictor { get; } = new("--predictor") { Description = "life regression: predictor weights (safetensors: norm.weight, norm.bias, bilinear.weight)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Method);
        command.Options.Add(KeepRate);
        command.Options.Add(Schedule);
        command.Options.Add(Predictor);
    }

    /// <summary>The chosen method's name as given on the command line.</summary>
    public string Name(ParseResult result) => TokenReductionMethods.Names[(int)TokenReductionMethods.Parse(result.GetValue(Method)!)];

    /// <summary>
    /// The validated strategy (null for <c>full</c>). Life regression without <c>--predictor</c> uses
    /// the untrained predictor (identity bilinear form) and says so on standard error when
    /// <paramref name="warnUntrained"/>. The predictor goes to <paramref name="model"/>'s device and precision when given.
    /// </summary>
    public TokenReductionStrategy? Build(ParseResult result, VisionTransformerConfig config, bool warnUntrained, VisionTransformer? model = null)
    {
        var method = TokenReductionMethods.Parse(result.GetValue(Method)!);
        var schedule = result.GetValue(Schedule) is { } text ? TokenSchedule.Parse(text).Ratios : null;
        var predictorPath = result.GetValue(Predictor);
        if (predictorPath is not null && method != TokenReductionMethod.Life)
        {
            throw new ArgumentException($"--predictor applies to --method life only, not {Name(result)}");
        }

        LifePredictor? predictor = null;
        if (method == TokenReductionMethod.Life)
        {
            predictor = new LifePredictor(config.EmbedDim, config.LayerNormEps);
            if (predictorPath is not null)
            {
                predictor.LoadWeights(predictorPath);
            }
            else if (warnUntrained)
            {
                Console.Error.WriteLine("tokenidle: warning: no --predictor given; life regression ranks patches with the untrained predictor (similarity to the class token)");
            }
        }

        var strategy = TokenReductionMethods.Create(method, config, result.GetValue(KeepRate), schedule, predictor);
        if (model is not null)
        {
            strategy?.PlaceWith(model);
        }

        return strategy;
    }
}
