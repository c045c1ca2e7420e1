using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Onnx;
using Microsoft.ML.TokenIdle.Serialization;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle export-onnx</c>: a model and its token-reduction method as one ONNX graph (pixels to logits and
/// probabilities), from a saved ML.NET model zip (its own method, or the one <c>--method</c> names) or from a config,
/// weights and <c>--method</c>.
/// </summary>
internal static class ExportOnnxCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var method = new MethodSource();
        var output = new Option<string>("--output") { Description = "the .onnx file to write (written whole or not at all)", Required = true };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset, {OnnxExportOptions.MinimumOpset} to {VisionTransformerOnnxExporter.MaximumOpset}", DefaultValueFactory = _ => OnnxExportOptions.MinimumOpset };
        var pixels = new Option<string>("--input-pixels")
        {
            Description = "what the input holds: normalized (mean/std applied), bytes (RGB planes 0-255, as ML.NET's ExtractPixels gives) or unit (0-1); resizing stays outside the graph",
            DefaultValueFactory = _ => "normalized",
        };
        var quantize = QuantizationOption.Create();
        var command = new Command("export-onnx", "write the model and its method as an ONNX graph (--model takes a preset or a saved model.zip, scored with its own method unless --method names another); prints one JSON line");
        source.AddTo(command, scoring: false);
        method.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(opset);
        command.Options.Add(pixels);
        command.Options.Add(quantize);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            var options = new OnnxExportOptions
            {
                Opset = result.GetValue(opset),
                InputPixels = result.GetValue(pixels)!.Trim().ToLowerInvariant() switch
                {
                    "normalized" => OnnxInputPixels.Normalized,
                    "bytes" => OnnxInputPixels.Bytes,
                    "unit" => OnnxInputPixels.UnitRange,
                    var other => throw new ArgumentException($"--input-pixels '{other}' is not one of normalized, bytes, unit"),
                },
                Quantization = QuantizationOption.Parse(result.GetValue(quantize)!),
            };
            var path = result.GetValue(output)!;
            string methodName;
            if (source.SavedModelPath(result) is { } zip)
            {
                if (new Option[] { source.Weights, source.Config }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } extra)
                {
                    throw new ArgumentException($"{extra.Name} does not apply to a model.zip: it carries its own weights");
                }

                var classifier = SavedModel.Load(zip).WithMethodOf(result, method).Classifier;
                methodName = classifier.Method;
                AtomicFile.Write(path, stream => classifier.ExportToOnnx(stream, options));
            }
            else
            {
                var model = source.Build(result, weightsOptional: false, onCpu: true);
                var strategy = method.Build(result, model.Config, warnUntrained: true, model);
                methodName = method.Name(result);
                AtomicFile.Write(path, stream => VisionTransformerOnnxExporter.Export(model, strategy, methodName, null, stream, options));
            }

            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["output"] = path,
                ["bytes"] = new FileInfo(path).Length,
                ["method"] = methodName,
                ["opset"] = options.Opset,
                ["input_pixels"] = options.InputPixels.ToString(),
                ["quantize"] = QuantizationOption.Name(options.Quantization),
            }));
            return 0;
        }));
        return command;
    }
}
