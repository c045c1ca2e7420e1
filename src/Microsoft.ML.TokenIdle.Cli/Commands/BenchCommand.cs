using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Tensors.Cpu;

namespace TokenIdle.Cli.Commands;

/// <summary><c>tokenidle bench</c>: images per second of a forward pass (or a training step) on random images.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var batch = new Option<int>("--batch") { Description = "images per pass", DefaultValueFactory = _ => 32 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all)" };
        var seconds = new Option<double>("--seconds") { Description = "measuring time after one warm-up pass", DefaultValueFactory = _ => 10 };
        var train = new Option<bool>("--train") { Description = "time a training step (forward, cross-entropy, backward) instead of inference" };
        var command = new Command("bench", "measure throughput; prints one JSON line with images_per_second");
        source.AddTo(command);
        method.AddTo(command);
        command.Options.Add(batch);
        command.Options.Add(threads);
        command.Options.Add(seconds);
        command.Options.Add(train);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            CommandRunner.SetThreads(result.GetValue(threads));
            var b = CommandRunner.Count(result, batch);
            var limit = result.GetValue(seconds);
            if (!(limit > 0))
            {
                throw new ArgumentException($"--seconds must be positive, got {limit}");
            }

            var model = source.Build(result, weightsOptional: true);
            var c = model.Config;
            var strategy = method.Build(result, c, warnUntrained: false);
            var images = Init.Normal(new Random(1), 1f, new[] { b, c.InChannels, c.ImageSize, c.ImageSize });
            var labels = Enumerable.Range(0, b).Select(i => i % c.NumClasses).ToArray();
            var isTrain = result.GetValue(train);
            model.Train(isTrain);
            Action step = isTrain ? () => TrainStep(model, strategy, images, labels) : () => InferStep(model, strategy, images);
            step();
            var passes = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < limit)
            {
                step();
                passes++;
            }

            var elapsed = watch.Elapsed.TotalSeconds;
            var report = new Dictionary<string, object>
            {
                ["mode"] = isTrain ? "train" : "inference",
                ["img_size"] = c.ImageSize,
                ["embed_dim"] = c.EmbedDim,
                ["depth"] = c.Depth,
                ["batch"] = b,
                ["threads"] = CpuBackend.Threads,
                ["gemm"] = CpuBackend.Instance.GemmKernel.Name,
                ["passes"] = passes,
                ["seconds"] = Math.Round(elapsed, 3),
                ["images_per_second"] = Math.Round(passes * b / elapsed, 2),
            };
            foreach (var (key, value) in MacsCommand.Describe(c, strategy, method.Name(result), result.GetValue(method.KeepRate)))
            {
                report[key] = value;
            }

            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }));
        return command;
    }

    private static void InferStep(VisionTransformer model, TokenReductionStrategy? strategy, Tensor images)
    {
        using var scope = TensorScope.Begin();
        model.Forward(images, strategy);
    }

    private static void TrainStep(VisionTransformer model, TokenReductionStrategy? strategy, Tensor images, int[] labels)
    {
        model.ZeroGrad();
        using var tape = GradientTape.Begin();
        tape.Backward(Ops.CrossEntropy(model.Forward(images, strategy), labels));
    }
}
