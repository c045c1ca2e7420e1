using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Visualization;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle visualize</c>: for each image, a PNG strip of what the method kept at each reducing
/// layer (for life regression, also each patch's life; for token merging, the regions merged into one token),
/// rendered from the engine's own forward pass.
/// </summary>
internal static class VisualizeCommand
{
    /// <summary>The classifier of a saved pipeline zip, with the method (and its name) it was trained with or <c>--method</c> names.</summary>
    private static (VisionTransformer, IReducedForward, string) FromZip(string path, Microsoft.ML.TokenIdle.Precision? precision, ParseResult result, MethodSource method)
    {
        var classifier = SavedModel.Load(path, precision).WithMethodOf(result, method).Classifier;
        return (classifier.Model, classifier.Reduction ?? throw new ArgumentException($"model '{path}' is the full model; it reduces nothing to draw"), classifier.Method);
    }

    private static (VisionTransformer, IReducedForward, string) FromFiles(ParseResult result, ModelSource source, MethodSource method)
    {
        var model = source.Build(result, weightsOptional: false);
        var strategy = method.Build(result, model.Config, warnUntrained: true, model)
            ?? throw new ArgumentException("--method full reduces nothing; choose evit, evit-fuse, idle, life or tome");
        return (model, strategy, method.Name(result));
    }

    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var output = new Option<string>("--output") { Description = "folder for the PNG strips (created)", Required = true };
        var images = new Argument<string[]>("images") { Description = "PNG or JPEG files", Arity = ArgumentArity.OneOrMore };
        var command = new Command("visualize", "draw which patches each reducing layer kept, one PNG strip per image (--model takes a preset or a saved model.zip, drawn with its own method unless --method names another); prints one JSON line per image");
        source.AddTo(command);
        method.AddTo(command);
        command.Options.Add(output);
        command.Arguments.Add(images);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            var (model, strategy, methodName) = source.SavedModelPath(result) is { } zip
                ? FromZip(zip, source.PrecisionOptions.Parse(result), result, method)
                : FromFiles(result, source, method);
            var folder = Directory.CreateDirectory(result.GetValue(output)!).FullName;
            var renderer = new TokenSelectionRenderer();
            foreach (var file in result.GetValue(images)!)
            {
                var (strip, trace, logits) = renderer.Render(model, strategy, ImageDecoder.Load(file));
                var target = Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(file)}.{methodName}.png");
                PngEncoder.Save(strip, target);
                var row = logits;
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["image"] = file,
                    ["output"] = target,
                    ["predicted_class"] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row),
                    ["layers"] = trace.Records.Select(r => new Dictionary<string, object> { ["layer"] = r.Layer, ["kept"] = r.KeptPerImage, ["of"] = r.TokensIn - 1 }).ToArray(),
                }));
            }

            return 0;
        }));
        return command;
    }
}
