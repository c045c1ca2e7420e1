using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace TokenIdle.Cli.Commands;

/// <summary><c>tokenidle macs</c>: multiply-accumulates per image of a model and method, as one JSON line.</summary>
internal static class MacsCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var command = new Command("macs", "print the MACs per image (paper convention and executed) of a model under a token-reduction method as one JSON line");
        command.Options.Add(source.Config);
        command.Options.Add(source.Model);
        command.Options.Add(source.Revision);
        method.AddTo(command);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            var config = source.LoadConfig(result);
            var description = method.Merges(result)
                ? Describe(config, method.Merging(result, config)!)
                : Describe(config, method.Build(result, config, warnUntrained: false), method.Name(result), result.GetValue(method.KeepRatio));
            Console.WriteLine(JsonSerializer.Serialize(description));
            return 0;
        }));
        return command;
    }

    /// <summary>Token merging and its MACs as JSON fields (the matching's products in the executed figure only).</summary>
    public static Dictionary<string, object> Describe(VisionTransformerConfig config, TokenMergingForward merging)
    {
        var report = MacsCounter.Count(config, merging.Schedule);
        return new Dictionary<string, object>
        {
            ["method"] = MethodSource.TokenMergingName,
            ["merge_schedule"] = string.Join(",", merging.Schedule.PerLayer),
            ["proportional_attention"] = merging.ProportionalAttention,
            ["paper_gmacs"] = Math.Round(report.PaperGMacs, 3),
            ["executed_gmacs"] = Math.Round(report.ExecutedGMacs, 3),
            ["tokens_per_layer"] = report.Layers.Select(c => c.MlpTokens).ToArray(),
        };
    }

    /// <summary>The method and its MACs as JSON fields (also part of <c>bench</c>'s output).</summary>
    public static Dictionary<string, object> Describe(VisionTransformerConfig config, TokenReductionStrategy? strategy, string method, double keepRatio)
    {
        var report = MacsCounter.Count(config, strategy);
        return new Dictionary<string, object>
        {
            ["method"] = method,
            ["keep_ratio"] = strategy is null ? 1.0 : keepRatio,

            // The older name of the same figure, for readers written before it was renamed.
            ["keep_rate"] = strategy is null ? 1.0 : keepRatio,
            ["schedule"] = strategy?.Schedule.ToString() ?? string.Join(",", Enumerable.Repeat("1", config.Depth)),
            ["paper_gmacs"] = Math.Round(report.PaperGMacs, 3),
            ["executed_gmacs"] = Math.Round(report.ExecutedGMacs, 3),
            ["tokens_per_layer"] = report.Layers.Select(c => c.MlpTokens).ToArray(),
        };
    }
}
