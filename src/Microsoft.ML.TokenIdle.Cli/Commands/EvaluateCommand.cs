using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Training;

namespace TokenIdle.Cli.Commands;

/// <summary><c>tokenidle evaluate</c>: top-1, top-5, loss, GMACs and images/s of a model and method on a labelled dataset, as one JSON line.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var runtime = new RuntimeSource();
        var data = new Option<string>("--data") { Description = DataSource.Description, DefaultValueFactory = _ => "fashion-mnist:test" };
        var limit = DataSource.LimitOption("--limit", "the dataset");
        var skipUnreadable = DataSource.SkipUnreadableOption();
        var batch = new Option<int>("--batch-size") { Description = "images per forward pass", DefaultValueFactory = _ => 256 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all)" };
        var command = new Command("evaluate", "accuracy and speed on a labelled dataset; prints one JSON line with top1, top5, loss, gmacs and images_per_second");
        source.AddTo(command);
        method.AddTo(command);
        runtime.AddTo(command);
        command.Options.Add(data);
        command.Options.Add(limit);
        command.Options.Add(skipUnreadable);
        command.Options.Add(batch);
        command.Options.Add(threads);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            CommandRunner.SetThreads(result.GetValue(threads));
            var batchSize = CommandRunner.Count(result, batch);

            using var scorer = runtime.Build(result, source, method, weightsOptional: false, warnUntrained: true, result.GetValue(threads));
            var config = scorer.Model.Config;
            // One pass: nothing to cache.
            var dataset = DataSource.Load(result.GetValue(data)!, config, result.GetValue(limit), "--data", result.GetValue(skipUnreadable), cacheMegabytes: 0);
            var evaluation = Evaluator.Evaluate(scorer.Logits, config.NumClasses, scorer.Device, dataset, batchSize);
            var description = MacsCommand.Describe(config, scorer.Reduction, method.Name(result), result.GetValue(method.KeepRatio));
            var report = new Dictionary<string, object>
            {
                ["top1"] = evaluation.Top1,
                ["top5"] = evaluation.Top5,
                ["loss"] = Math.Round(evaluation.Loss, 6),
                ["gmacs"] = description["paper_gmacs"],
                ["images_per_second"] = Math.Round(evaluation.ImagesPerSecond, 2),
                ["count"] = evaluation.Count,
                ["threads"] = TorchSharp.torch.get_num_threads(),
                ["cpu"] = Microsoft.ML.TokenIdle.Engine.CpuFeatures.Model,
                ["cpu_features"] = string.Join(' ', Microsoft.ML.TokenIdle.Engine.CpuFeatures.Features),
                ["runtime"] = scorer.Name,
                ["dtype"] = scorer.Model.ClsToken.dtype.ToString().ToLowerInvariant(),
                ["quantize"] = QuantizationOption.Name(scorer.Quantization),
            };
            foreach (var (key, value) in description)
            {
                report[key] = value;
            }

            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }));
        return command;
    }
}
