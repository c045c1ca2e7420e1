using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Losses;
using static TorchSharp.torch;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle bench</c>: images per second of a forward pass (or a training step) on random images, with the
/// process's resident memory after the warm-up pass, every 20 passes, at the end and at its peak (it must stay flat
/// over the steps).
/// </summary>
internal static class BenchCommand
{
    // Resident memory is sampled every this many passes, so a leak shows as a trend rather than one end value.
    private const int RssSamplingPasses = 20;

    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var runtime = new RuntimeSource();
        var batch = new Option<int>("--batch-size", "--batch") { Description = "images per pass", DefaultValueFactory = _ => 32 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all)" };
        var seconds = new Option<double>("--seconds") { Description = "measuring time after one warm-up pass", DefaultValueFactory = _ => 10 };
        var train = new Option<bool>("--train") { Description = "time a training step of the method's own recipe and objective (the full model: cross-entropy and AdamW; IdleViT: with distillation and the cut loss) instead of inference" };
        var steps = new Option<int?>("--steps") { Description = "stop after this many passes (after the warm-up) even before --seconds" };
        var command = new Command("bench", "measure throughput; prints one JSON line with images_per_second");
        source.AddTo(command);
        method.AddTo(command);
        runtime.AddTo(command);
        command.Options.Add(batch);
        command.Options.Add(threads);
        command.Options.Add(seconds);
        command.Options.Add(train);
        command.Options.Add(steps);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            // Resident memory with libtorch loaded, before anything is built: what the run adds to it is what the memory estimate predicts.
            Microsoft.ML.TokenIdle.Engine.TorchEngine.EnsureLoaded();
            var rssAtStart = Environment.WorkingSet;
            CommandRunner.SetThreads(result.GetValue(threads));
            var b = CommandRunner.Count(result, batch);
            var limit = result.GetValue(seconds);
            if (!(limit > 0))
            {
                throw new ArgumentException($"--seconds must be positive, got {limit}");
            }

            var isTrain = result.GetValue(train);
            if (isTrain && runtime.Name(result) != ModelRuntime.TorchSharpName)
            {
                throw new ArgumentException("--train runs on --runtime torchsharp; ONNX Runtime scores only");
            }

            var precision = source.Precision(result);
            if (isTrain && precision == Microsoft.ML.TokenIdle.Precision.Float16)
            {
                throw new ArgumentException("--precision float16 (or --half) applies to scoring; training steps run in float32 or bfloat16 (mixed precision)");
            }

            using var scorer = runtime.Build(result, source, method, weightsOptional: true, warnUntrained: false, result.GetValue(threads), training: isTrain);
            var (model, reduction, device) = (scorer.Model, scorer.Reduction, scorer.Device);
            var c = model.Config;
            var maxPasses = result.GetValue(steps) is { } n ? (n >= 1 ? n : throw new ArgumentException($"--steps must be at least 1, got {n}")) : int.MaxValue;
            using var generator = new Generator(1);
            using var images = randn(new long[] { b, c.InChannels, c.ImageSize, c.ImageSize }, generator: generator).to(device);
            model.train(isTrain);

            // A training step is the trainers' own (the method's options at their defaults: its objective, AdamW, clipping), on random images.
            var recipe = isTrain ? TrainingOptions(result, method, precision, c).ToTrainerOptions(b, 1, precision) : null;
            var estimate = recipe is null
                ? MemoryEstimate.ForScoring(c, reduction, b, model.ClsToken.dtype)
                : MemoryEstimate.ForTraining(c, reduction, b, recipe.Objective.NeedsTeacher, recipe.Objective.ComputesCutLoss);
            estimate.EnsureFits(Microsoft.ML.TokenIdle.Engine.AvailableMemory.For(device), "--batch-size");
            using var trainer = recipe is null ? null : new Trainer(model, reduction, recipe);
            using var targets = recipe is null ? null : SoftTargetCrossEntropy.Targets(Enumerable.Range(0, b).Select(i => i % c.NumClasses).ToArray(), c.NumClasses, recipe.LabelSmoothing, device);
            Action step = isTrain ? () => trainer!.Step(images, targets!) : () => InferStep(scorer, images);
            // A CUDA step returns once its kernels are queued: the clock is read only after the device has finished them.
            Action synchronize = device.type == TorchSharp.DeviceType.CUDA ? () => TorchSharp.torch.cuda.synchronize(device) : () => { };
            step();
            synchronize();
            var process = Process.GetCurrentProcess();
            process.Refresh();
            var rssStart = process.WorkingSet64;
            var passes = 0;
            var rssByPass = new SortedDictionary<int, long>();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < limit && passes < maxPasses)
            {
                step();
                passes++;
                if (passes % RssSamplingPasses == 0)
                {
                    process.Refresh();
                    rssByPass[passes] = process.WorkingSet64 >> 20;
                }
            }

            synchronize();
            var elapsed = watch.Elapsed.TotalSeconds;
            process.Refresh();
            var report = new Dictionary<string, object>
            {
                ["mode"] = isTrain ? "train" : "inference",
                ["img_size"] = c.ImageSize,
                ["embed_dim"] = c.EmbedDim,
                ["parameters"] = c.ParameterCount(),
                ["depth"] = c.Depth,
                ["batch"] = b,
                ["threads"] = get_num_threads(),
                ["cpu"] = Microsoft.ML.TokenIdle.Engine.CpuFeatures.Model,
                ["cpu_features"] = string.Join(' ', Microsoft.ML.TokenIdle.Engine.CpuFeatures.Features),
                ["device"] = scorer.ExecutionDevice,
                ["runtime"] = scorer.Name,
                ["dtype"] = model.ClsToken.dtype.ToString().ToLowerInvariant(),
                ["precision"] = precision.Name(),
                ["quantize"] = QuantizationOption.Name(scorer.Quantization),
                ["passes"] = passes,
                ["seconds"] = Math.Round(elapsed, 3),
                ["images_per_second"] = Math.Round(passes * b / elapsed, 2),
                ["rss_mb_at_start"] = rssAtStart >> 20,
                ["memory_estimate_mb"] = estimate.Bytes >> 20,
                ["rss_mb_after_warmup"] = rssStart >> 20,
                ["rss_mb_end"] = process.WorkingSet64 >> 20,
                ["peak_rss_mb"] = process.PeakWorkingSet64 >> 20,
                ["rss_mb_by_pass"] = rssByPass,
            };
            if (recipe is not null)
            {
                report["objective"] = recipe.Objective.Description;
            }

            foreach (var (key, value) in MacsCommand.Describe(c, reduction, method.Name(result), result.GetValue(method.KeepRatio)))
            {
                report[key] = value;
            }

            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }));
        return command;
    }

    private static void InferStep(ModelRuntime scorer, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        scorer.Logits(images);
    }

    // The trainer options of the method on the command line, at their defaults (the predictor itself comes with the method).
    private static VisionTransformerTrainerBase.OptionsBase TrainingOptions(System.CommandLine.ParseResult result, MethodSource method, Microsoft.ML.TokenIdle.Precision precision, VisionTransformerConfig config)
    {
        var options = VisionTransformerTrainerBase.OptionsBase.For(method.Options(result, config, warnUntrained: false));
        options.Precision = precision;
        return options;
    }
}
