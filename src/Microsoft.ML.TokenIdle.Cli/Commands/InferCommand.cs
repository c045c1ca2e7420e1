using System.CommandLine;
using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace TokenIdle.Cli.Commands;

/// <summary><c>tokenidle infer</c>: logits for the images of a safetensors file.</summary>
internal static class InferCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var runtime = new RuntimeSource();
        var input = new Option<string>("--input") { Description = "safetensors file holding the tensor 'input' [B,C,H,W]", Required = true };
        var output = new Option<string?>("--output") { Description = "safetensors file to write the tensor 'logits' [B,classes] to" };
        var batch = new Option<int>("--batch-size") { Description = "images per forward pass", DefaultValueFactory = _ => 64 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all)" };
        var command = new Command("infer", "score images: prints the predicted class of each and optionally writes the logits");
        source.AddTo(command);
        method.AddTo(command);
        runtime.AddTo(command);
        command.Options.Add(input);
        command.Options.Add(output);
        command.Options.Add(batch);
        command.Options.Add(threads);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            CommandRunner.SetThreads(result.GetValue(threads));
            var batchSize = CommandRunner.Count(result, batch);

            using var scorer = runtime.Build(result, source, method, weightsOptional: false, warnUntrained: true, result.GetValue(threads));
            var inputPath = result.GetValue(input)!;
            var entries = SafetensorsFile.Read(inputPath);
            if (!entries.TryGetValue("input", out var entry))
            {
                throw new InvalidDataException($"'{inputPath}' holds no tensor named 'input' (it has: {string.Join(", ", entries.Keys)})");
            }

            using var images = entry.ToTensor();
            using var logits = Scorer.Score(scorer, images, batchSize);
            var outputPath = result.GetValue(output);
            if (outputPath is not null)
            {
                SafetensorsFile.Write(outputPath, new[] { KeyValuePair.Create("logits", logits) }, new Dictionary<string, string> { ["format"] = "pt" });
            }

            using var predicted = logits.argmax(1);
            var classes = predicted.data<long>().ToArray();
            for (var b = 0; b < classes.Length; b++)
            {
                Console.WriteLine($"image {b}: class {classes[b]}");
            }

            return 0;
        }));
        return command;
    }
}
