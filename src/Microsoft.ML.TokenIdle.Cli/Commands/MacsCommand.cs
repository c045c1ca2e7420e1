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
            var description = Describe(config, method.Build(result, config, warnUntrained: false), method.Name(result), result.GetValue(method.KeepRatio));
            Console.WriteLine(JsonSerializer.Serialize(description));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The method and its MACs as JSON fields (also part of <c>bench</c>'s, <c>evaluate</c>'s and <c>train</c>'s output): a
    /// keep-ratio method's ratio and schedule, or token merging's r per layer and proportional attention.
    /// </summary>
    public static Dictionary<string, object> Describe(VisionTransformerConfig config, IReducedForward? reduction, string method, double keepRatio)
    {
        var report = MacsCounter.Count(config, reduction);
        var fields = new Dictionary<string, object> { ["method"] = method };
        if (reduction is TokenMergingForward merging)
        {
            fields["merge_schedule"] = string.Join(",", merging.Schedule.PerLayer);
            fields["proportional_attention"] = merging.ProportionalAttention;
        }
        else
        {
            var strategy = reduction as TokenReductionStrategy;
            fields["keep_ratio"] = strategy is null ? 1.0 : keepRatio;

            // The older name of the same figure, for readers written before it was renamed.
            fields["keep_rate"] = strategy is null ? 1.0 : keepRatio;
            fields["schedule"] = strategy?.Schedule.ToString() ?? string.Join(",", Enumerable.Repeat("1", config.Depth));
        }

        fields["paper_gmacs"] = Math.Round(report.PaperGMacs, 3);
        fields["executed_gmacs"] = Math.Round(report.ExecutedGMacs, 3);
        fields["tokens_per_layer"] = report.Layers.Select(c => c.MlpTokens).ToArray();
        return fields;
    }
}
