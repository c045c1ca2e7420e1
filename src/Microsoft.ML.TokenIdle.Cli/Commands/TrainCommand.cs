using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Data;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle train</c>: the ML.NET trainers' run on files — the same options (<see cref="RecipeFlags"/>: one flag per
/// property, the same defaults), the same backbone (<c>--model</c>/<c>--config</c>/<c>--weights</c>; none: the default
/// DeiT-S), the same stages and objective (<see cref="TrainingRun"/>) — on an image folder, a CSV or Fashion-MNIST;
/// checkpoints into <c>--output</c>, progress on standard error, one JSON summary line on standard output.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var flags = new TrainFlags();
        var command = flags.Command();
        command.SetAction(result => CommandRunner.Run(() =>
        {
            CommandRunner.SetThreads(result.GetValue(flags.Threads));
            var device = flags.Source.SelectDevice(result);

            // The method's options need the architecture (life regression's predictor has its width): read it once, as the run will.
            var architecture = (flags.Source.Backbone(result) ?? Backbone.Default).LoadConfig(Info);
            var options = flags.Bind(result, architecture);
            if (options.MaxEpoch == 0)
            {
                throw new ArgumentException(flags.Recipe.InFlagNames(result, "MaxEpoch 0 trains nothing: score the backbone with evaluate or infer"));
            }

            TrainingRun run;
            try
            {
                run = new TrainingRun(options, Info);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(flags.Recipe.InFlagNames(result, e.Message), e);
            }

            var train = DataSource.Load(result.GetValue(flags.Data)!, run.Architecture, result.GetValue(flags.Limit), "--data", options.SkipUnreadableImages, options.CacheBudgetMegabytes, classes: null);
            var validationSpec = result.GetValue(flags.Validation);
            if (validationSpec is null && result.GetValue(flags.ValidationLimit) is not null)
            {
                throw new ArgumentException("--validation-limit needs --validation");
            }

            ImageSource? validation = validationSpec is null ? null
                : DataSource.Load(validationSpec, run.Architecture, result.GetValue(flags.ValidationLimit), "--validation", options.SkipUnreadableImages, options.CacheBudgetMegabytes, train.Classes);
            if (validation is null && options.ValidationSetFraction is { } fraction)
            {
                (train, validation) = train.Split(fraction, options.Seed ?? 1);
                Info($"holding out {validation.Count} of the training images for validation");
            }

            var progress = new ConsoleProgressBar(Console.Error, !Console.IsErrorRedirected);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            var outputDir = options.WorkspacePath!;
            var watch = Stopwatch.StartNew();
            try
            {
                var trained = run.Train(train, validation, device, options.Seed ?? 1, (_, _) => progress, cancel.Token, result.GetValue(flags.Resume));
                using var model = trained.Model;
                using var predictor = trained.Reduction?.Predictor;
                var skipped = train.SkippedCount + (validation?.SkippedCount ?? 0);
                if (skipped > 0)
                {
                    Info($"skipped {skipped} unreadable image(s) in all");
                }

                var last = trained.Validation;
                var summary = new Dictionary<string, object?>
                {
                    ["epochs"] = trained.Epochs,
                    ["steps"] = trained.Steps,
                    ["precision"] = options.Precision.Name(),
                    ["backbone"] = run.Backbone.ToString(),
                    ["train_images"] = train.Count - train.SkippedCount,
                    ["skipped_images"] = skipped,
                    ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1),
                    ["train_loss"] = progress.Latest is { } p ? Math.Round(p.Loss, 5) : null,
                    ["top1"] = last?.Top1,
                    ["top5"] = last?.Top5,
                    ["validation_loss"] = last?.Loss,
                    ["output"] = outputDir,
                };
                foreach (var (key, value) in MacsCommand.Describe(model.Config, trained.Reduction, flags.Method.Name(result), result.GetValue(flags.Method.KeepRatio)))
                {
                    summary[key] = value;
                }

                Console.WriteLine(JsonSerializer.Serialize(summary));
                return 0;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"tokenidle: cancelled; continue with --resume {Path.Combine(outputDir, "last.ckpt.safetensors")} (written after each epoch{(options.CheckpointSteps is { } n ? $" and every {n} steps" : string.Empty)})");
                return 130;
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(flags.Recipe.InFlagNames(result, e.Message), e);
            }
            catch (InsufficientMemoryException e)
            {
                throw new InsufficientMemoryException(flags.Recipe.InFlagNames(result, e.Message), e);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }));
        return command;
    }

    private static void Info(string message) => Console.Error.WriteLine($"tokenidle: {message}");
}

/// <summary><c>tokenidle train</c>'s flags, and the trainer options they describe.</summary>
internal sealed class TrainFlags
{
    public ModelSource Source { get; } = new();

    public MethodSource Method { get; } = new();

    public RecipeFlags Recipe { get; } = new();

    public Option<string> Data { get; } = new("--data") { Description = $"training set: {DataSource.Description}", DefaultValueFactory = _ => "fashion-mnist:train" };

    public Option<int?> Limit { get; } = DataSource.LimitOption("--limit", "the training set");

    public Option<string?> Validation { get; } = new("--validation") { Description = "validation set evaluated after every epoch (same forms as --data); best.safetensors keeps its best top-1" };

    public Option<int?> ValidationLimit { get; } = DataSource.LimitOption("--validation-limit", "the validation set");

    public Option<string> Output { get; } = new("--workspace-path", "--output") { Description = "folder for config.json, best.safetensors, best.predictor.safetensors (life) and last.ckpt.safetensors", Required = true };

    public Option<string?> Resume { get; } = new("--resume") { Description = "continue from a last.ckpt.safetensors (give the same backbone: its weights are the teacher)" };

    public Option<int?> Threads { get; } = new("--threads") { Description = "CPU threads (default: all)" };

    /// <summary>The <c>train</c> command with every flag.</summary>
    public Command Command()
    {
        var command = new Command("train", "pretrain or finetune a ViT with or without token reduction, as the ML.NET trainers do; prints one JSON line when done");
        Source.AddTo(command, scoring: false);
        Method.AddTo(command);
        Recipe.AddTo(command);
        foreach (var option in new Option[] { Data, Limit, Validation, ValidationLimit, Output, Resume, Threads })
        {
            command.Options.Add(option);
        }

        return command;
    }

    /// <summary>
    /// The trainer options the flags describe — what an ML.NET trainer would be given for the same run — for a backbone
    /// of <paramref name="architecture"/>'s shape: the method's options at their defaults, then each flag given.
    /// </summary>
    /// <exception cref="ArgumentException">A flag that does not apply, or float16 (training runs in float32 or bfloat16).</exception>
    public VisionTransformerTrainerBase.OptionsBase Bind(ParseResult result, VisionTransformerConfig architecture)
    {
        var options = VisionTransformerTrainerBase.OptionsBase.For(Method.Options(result, architecture, warnUntrained: false));
        Recipe.Apply(result, options, Method.Name(result));
        (options.Backbone, options.WorkspacePath, options.Precision) = (Source.Backbone(result), result.GetValue(Output), Source.Precision(result));
        options.Device = result.GetResult(Source.Device) is { Implicit: false } ? result.GetValue(Source.Device) : null;
        if (options.Precision == Precision.Float16)
        {
            // The ML.NET trainers train float16 models in float32 and score them in float16; train writes checkpoints only.
            throw new ArgumentException("--precision float16 applies to scoring; training runs in float32 or bfloat16 (mixed precision): give one of those");
        }

        return options;
    }
}
