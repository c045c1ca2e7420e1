using System.CommandLine;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Engine;

namespace TokenIdle.Cli.Commands;

/// <summary>The <c>--runtime</c> option: score with TorchSharp (default) or with ONNX Runtime on the model exported in memory.</summary>
internal sealed class RuntimeSource
{
    public Option<string> Runtime { get; } = new("--runtime")
    {
        Description = $"scoring engine: {ModelRuntime.TorchSharpName} (libtorch) or {ModelRuntime.OnnxRuntimeName} (the model and method exported to ONNX in memory; --threads sets its intra-op threads)",
        DefaultValueFactory = _ => ModelRuntime.TorchSharpName,
    };

    public Option<string> Quantize { get; } = QuantizationOption.Create();

    public void AddTo(Command command)
    {
        command.Options.Add(Runtime);
        command.Options.Add(Quantize);
    }

    /// <summary>The chosen runtime's name (<see cref="ModelRuntime.TorchSharpName"/> or <see cref="ModelRuntime.OnnxRuntimeName"/>).</summary>
    /// <exception cref="ArgumentException">An unknown runtime.</exception>
    public string Name(ParseResult result)
    {
        var runtime = result.GetValue(Runtime)!.Trim().ToLowerInvariant();
        return runtime is ModelRuntime.TorchSharpName or ModelRuntime.OnnxRuntimeName
            ? runtime
            : throw new ArgumentException($"--runtime '{result.GetValue(Runtime)}' is not one of {ModelRuntime.TorchSharpName}, {ModelRuntime.OnnxRuntimeName}");
    }

    /// <summary>The model and method of <paramref name="source"/> and <paramref name="method"/> on the chosen engine (float32 weights for <paramref name="training"/>).</summary>
    /// <exception cref="ArgumentException">An unknown runtime, <c>--half</c> with ONNX Runtime, or <c>--quantize</c> with TorchSharp.</exception>
    public ModelRuntime Build(ParseResult result, ModelSource source, MethodSource method, bool weightsOptional, bool warnUntrained, int? threads, bool training = false)
    {
        var quantization = QuantizationOption.Parse(result.GetValue(Quantize)!);
        if (Name(result) == ModelRuntime.TorchSharpName)
        {
            if (quantization != Microsoft.ML.TokenIdle.Onnx.OnnxQuantization.None)
            {
                throw new ArgumentException($"--quantize {result.GetValue(Quantize)} applies to --runtime {ModelRuntime.OnnxRuntimeName} (the ONNX export); TorchSharp scores in float32 or --half");
            }

            var model = source.Build(result, weightsOptional, training: training);
            return ModelRuntime.TorchSharp(model, method.Build(result, model.Config, warnUntrained, model, training));
        }

        if (source.Precision(result) is var precision and not Microsoft.ML.TokenIdle.Precision.Float32)
        {
            throw new ArgumentException($"--precision {precision.Name()} (or --half) applies to --runtime torchsharp; the ONNX export is float32 (--quantize int8 makes it faster)");
        }

        // The exported model is built on the CPU; --device chooses ONNX Runtime's execution provider.
        var device = TorchEngine.ParseDevice(result.GetValue(source.Device)!);
        var cpuModel = source.Build(result, weightsOptional, onCpu: true);
        return ModelRuntime.OnnxRuntime(cpuModel, method.Build(result, cpuModel.Config, warnUntrained, cpuModel), method.Name(result), device, threads, quantization);
    }
}
