using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;

using TorchSharp;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle train</c>: pretraining from scratch (no <c>--weights</c>) or finetuning from a weights
/// file, with or without a token-reduction method; checkpoints into <c>--output</c>; progress on
/// standard error; one JSON summary line on standard output.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var data = new Option<string>("--data") { Description = $"training set: {DataSource.Description}", DefaultValueFactory = _ => "fashion-mnist:train" };
        var limit = DataSource.LimitOption("--limit", "the training set");
        var validation = new Option<string?>("--validation") { Description = "validation set evaluated after every epoch (same forms as --data); best.safetensors keeps its best top-1" };
        var validationLimit = DataSource.LimitOption("--validation-limit", "the validation set");
        var skipUnreadable = DataSource.SkipUnreadableOption();
        var output = new Option<string>("--output") { Description = "folder for config.json, best.safetensors, best.predictor.safetensors (life) and last.ckpt.safetensors", Required = true };
        var resume = new Option<string?>("--resume") { Description = "continue from a last.ckpt.safetensors (give the same --weights: they are the teacher)" };
        var defaults = new TrainerOptions();
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => defaults.Epochs, Description = "passes over the training set" };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => defaults.BatchSize, Description = "images per optimizer step" };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => defaults.LearningRate, Description = "peak learning rate (cosine schedule)" };
        var minLr = new Option<double>("--min-lr") { DefaultValueFactory = _ => defaults.MinLearningRate, Description = "learning-rate floor" };
        var warmup = new Option<double>("--warmup-epochs") { DefaultValueFactory = _ => defaults.WarmupEpochs, Description = "linear warm-up length in epochs" };
        var weightDecay = new Option<double>("--weight-decay") { DefaultValueFactory = _ => defaults.WeightDecay, Description = "AdamW decoupled weight decay" };
        var clip = new Option<double>("--clip-grad") { DefaultValueFactory = _ => defaults.ClipGradNorm, Description = "global gradient-norm limit (0 = off)" };
        var smoothing = new Option<double>("--label-smoothing") { DefaultValueFactory = _ => defaults.LabelSmoothing, Description = "label smoothing" };
        var cropScale = new Option<double>("--min-crop-scale") { DefaultValueFactory = _ => defaults.MinCropScale, Description = "random resized crop: smallest area fraction (1 = off)" };
        var flip = new Option<bool>("--flip") { Description = "random horizontal flips" };
        var mixup = new Option<double>("--mixup") { DefaultValueFactory = _ => defaults.MixupAlpha, Description = "mixup alpha (0 = off)" };
        var cutmix = new Option<double>("--cutmix") { DefaultValueFactory = _ => defaults.CutmixAlpha, Description = "cutmix alpha (0 = off)" };
        var dropPath = new Option<double?>("--drop-path") { Description = "stochastic depth rate (default: the config's drop_path_rate)" };
        var alpha = new Option<double?>("--logit-weight") { Description = "α, logit distillation from the starting model (default 5 for --method idle, else 0)" };
        var beta = new Option<double?>("--feature-weight") { Description = "β, feature distillation (default 500 for --method idle, else 0)" };
        var theta = new Option<double?>("--cut-weight") { Description = "θ, token cut loss (default 20 for --method idle, else 0)" };
        var cutLoss = new Option<CutLossVariant>("--cut-loss") { DefaultValueFactory = _ => CutLossVariant.Both, Description = "cut-loss terms: Both, Inter, Intra, None" };
        var temperature = new Option<double>("--temperature") { DefaultValueFactory = _ => 1.0, Description = "logit distillation temperature" };
        var stage = new Option<TrainingStage>("--stage") { DefaultValueFactory = _ => TrainingStage.All, Description = "life regression: PredictorOnly (stage 1), BackboneOnly (stage 2) or All" };
        var maxSteps = new Option<long?>("--max-steps") { Description = "stop after N optimiser steps (the learning-rate schedule is laid over them; --epochs is then not used)" };
        var workers = new Option<int>("--workers") { DefaultValueFactory = _ => defaults.Data.Workers, Description = "threads that decode and resize images while the model trains (default: the cores available)" };
        var prefetch = new Option<int>("--prefetch") { DefaultValueFactory = _ => defaults.Data.PrefetchBatches, Description = "batches decoded ahead of the model step" };
        var cache = DataSource.CacheOption();
        var checkpointSteps = new Option<long?>("--checkpoint-steps") { Description = "also write last.ckpt.safetensors every N steps within an epoch (resumable at that step)" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0, Description = "seed of initialisation, data order and augmentation" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all)" };
        var command = new Command("train", "pretrain or finetune a ViT with or without token reduction; prints one JSON line when done");
        source.AddTo(command, scoring: false);
        method.AddTo(command);
        foreach (var option in new Option[] { data, limit, validation, validationLimit, skipUnreadable, output, resume, epochs, batch, lr, minLr, warmup, weightDecay, clip, smoothing, cropScale, flip, mixup, cutmix, dropPath, alpha, beta, theta, cutLoss, temperature, stage, maxSteps, checkpointSteps, workers, prefetch, cache, seed, threads })
        {
            command.Options.Add(option);
        }

        command.SetAction(result => CommandRunner.Run(() =>
        {
            CommandRunner.SetThreads(result.GetValue(threads));
            var config = source.LoadConfig(result);
            if (result.GetValue(dropPath) is { } rate)
            {
                config = config with { DropPathRate = rate };
                config.Validate();
            }

            // The model's config records the normalisation it was trained with, so scoring reproduces it.
            var train = DataSource.Load(result.GetValue(data)!, config, result.GetValue(limit), "--data", result.GetValue(skipUnreadable), result.GetValue(cache));
            config = config with { Mean = train.Format.Mean.Select(m => (double)m).ToArray(), Std = train.Format.Std.Select(v => (double)v).ToArray() };
            var seedValue = result.GetValue(seed);
            var device = source.SelectDevice(result);
            var weights = source.WeightsPath(result);
            var model = weights is null ? new VisionTransformer(config, seedValue) : VisionTransformer.Load(config, weights);
            if (weights is not null)
            {
                ModuleWeights.RequireFinite(model, weights);
            }

            model.to(device);
            var strategy = method.Build(result, config, warnUntrained: false, model);
            var idle = method.Name(result) == "idle";
            var objective = new IdleVitObjective
            {
                LogitWeight = result.GetValue(alpha) ?? (idle ? 5 : 0),
                FeatureWeight = result.GetValue(beta) ?? (idle ? 500 : 0),
                CutWeight = result.GetValue(theta) ?? (idle ? 20 : 0),
                CutLoss = new CutLoss { Variant = result.GetValue(cutLoss) },
                LogitDistillation = new LogitDistillationLoss { Temperature = result.GetValue(temperature) },
            };
            var outputDir = result.GetValue(output)!;
            var options = new TrainerOptions
            {
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(lr),
                MinLearningRate = result.GetValue(minLr),
                WarmupEpochs = result.GetValue(warmup),
                WeightDecay = result.GetValue(weightDecay),
                ClipGradNorm = result.GetValue(clip),
                LabelSmoothing = result.GetValue(smoothing),
                MinCropScale = result.GetValue(cropScale),
                HorizontalFlip = result.GetValue(flip),
                MixupAlpha = result.GetValue(mixup),
                CutmixAlpha = result.GetValue(cutmix),
                Stage = result.GetValue(stage),
                Objective = objective,
                Seed = seedValue,
                CheckpointDirectory = outputDir,
                MaxSteps = result.GetValue(maxSteps),
                CheckpointSteps = result.GetValue(checkpointSteps),
                Data = new DataPipelineOptions { Workers = result.GetValue(workers), PrefetchBatches = result.GetValue(prefetch) },
                Precision = source.Precision(result),
            };
            var validationSpec = result.GetValue(validation);
            if (validationSpec is null && result.GetValue(validationLimit) is not null)
            {
                throw new ArgumentException("--validation-limit needs --validation");
            }

            var validationSet = validationSpec is null ? null : DataSource.Load(validationSpec, config, result.GetValue(validationLimit), "--validation", result.GetValue(skipUnreadable), result.GetValue(cache));
            using var trainer = new Trainer(model, strategy, options);
            if (result.GetValue(resume) is { } checkpoint)
            {
                trainer.Resume(checkpoint);
                var within = trainer.StepsIntoEpoch > 0 ? $", {trainer.StepsIntoEpoch} steps into epoch {trainer.CompletedEpochs + 1}" : string.Empty;
                var of = options.MaxSteps is null ? $" of {options.Epochs}" : string.Empty;
                Console.Error.WriteLine($"tokenidle: resuming after epoch {trainer.CompletedEpochs}{of}{within} ({trainer.CompletedSteps} steps in all) from '{checkpoint}'");
            }

            var progress = new ConsoleProgressBar(Console.Error, !Console.IsErrorRedirected);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            var watch = Stopwatch.StartNew();
            try
            {
                var last = trainer.Fit(train, validationSet, progress, cancel.Token);
                var skipped = train.SkippedCount + (validationSet?.SkippedCount ?? 0);
                if (skipped > 0)
                {
                    Console.Error.WriteLine($"tokenidle: skipped {skipped} unreadable image(s) in all");
                }

                var summary = new Dictionary<string, object?>
                {
                    ["epochs"] = trainer.CompletedEpochs,
                    ["steps"] = trainer.CompletedSteps,
                    ["precision"] = options.Precision.Name(),
                    ["train_images"] = train.Count - train.SkippedCount,
                    ["skipped_images"] = skipped,
                    ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1),
                    ["train_loss"] = progress.Latest is { } p ? Math.Round(p.Loss, 5) : null,
                    ["top1"] = last?.Top1,
                    ["top5"] = last?.Top5,
                    ["validation_loss"] = last?.Loss,
                    ["output"] = outputDir,
                };
                foreach (var (key, value) in MacsCommand.Describe(config, strategy, method.Name(result), result.GetValue(method.KeepRate)))
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
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }));
        return command;
    }
}
