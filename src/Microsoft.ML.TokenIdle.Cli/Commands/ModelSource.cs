using System.CommandLine;
using Microsoft.ML.TokenIdle.Engine;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Nn;
using TorchSharp;

namespace TokenIdle.Cli.Commands;

/// <summary>The options that say which model to build: <c>--config</c> JSON or a <c>--model</c> preset, and <c>--weights</c>.</summary>
internal sealed class ModelSource
{
    public Option<string?> Config { get; } = new("--config") { Description = "model config.json (timm field names)" };

    public Option<string?> Model { get; } = new("--model") { Description = $"named preset: {string.Join(", ", VisionTransformerConfig.PresetNames)}" };

    public Option<string?> Weights { get; } = new("--weights") { Description = "weights as safetensors with timm names (F32/F16/BF16)" };

    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N (cuda needs a CUDA libtorch)", DefaultValueFactory = _ => "cpu" };

    public Option<bool> Half { get; } = new("--half") { Description = "score in float16 (for CUDA; slower than float32 on the CPU)" };

    /// <summary>Adds the options; <c>--half</c> only to commands that score (<paramref name="scoring"/>).</summary>
    public void AddTo(Command command, bool scoring = true)
    {
        command.Options.Add(Config);
        command.Options.Add(Model);
        command.Options.Add(Weights);
        command.Options.Add(Device);
        if (scoring)
        {
            command.Options.Add(Half);
        }
    }

    /// <summary>The <c>--device</c> to run on.</summary>
    /// <exception cref="ArgumentException">Not cpu/cuda/cuda:N, or CUDA without a CUDA libtorch.</exception>
    public TorchSharp.torch.Device SelectDevice(ParseResult result)
    {
        var device = TorchEngine.ParseDevice(result.GetValue(Device)!);
        if (device != "cpu" && !TorchEngine.CudaAvailable)
        {
            throw new ArgumentException($"--device {device}: libtorch has no CUDA device here (this build uses the CPU libtorch; a CUDA one comes with TorchSharp-cuda-linux or -windows)");
        }

        return TorchSharp.torch.device(device);
    }

    /// <summary>The saved ML.NET model zip <c>--model</c> names (a path ending in .zip), or null for a preset or <c>--config</c>.</summary>
    public string? SavedModelPath(ParseResult result)
        => result.GetValue(Model) is { } path && path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? path : null;

    /// <summary>The architecture from <c>--config</c> or <c>--model</c> (exactly one).</summary>
    public VisionTransformerConfig LoadConfig(ParseResult result)
    {
        var configPath = result.GetValue(Config);
        var preset = result.GetValue(Model);
        if ((configPath is null) == (preset is null))
        {
            throw new ArgumentException("give exactly one of --config FILE or --model PRESET");
        }

        return configPath is not null ? VisionTransformerConfig.Load(configPath) : VisionTransformerConfig.FromPreset(preset!);
    }

    /// <summary>
    /// Builds the model on <c>--device</c> (on the CPU when <paramref name="onCpu"/>: for export), in float16 with
    /// <c>--half</c>; weights are required unless <paramref name="weightsOptional"/> (random timm initialisation).
    /// </summary>
    public VisionTransformer Build(ParseResult result, bool weightsOptional, bool onCpu = false)
    {
        var device = onCpu ? TorchSharp.torch.CPU : SelectDevice(result);
        var config = LoadConfig(result);
        var weights = result.GetValue(Weights);
        if (weights is null && !weightsOptional)
        {
            throw new ArgumentException("--weights FILE is required");
        }

        var model = weights is null ? new VisionTransformer(config) : VisionTransformer.Load(config, weights);
        if (weights is not null && ModuleWeights.NonFinite(model) is { } bad)
        {
            Console.Error.WriteLine($"tokenidle: warning: '{weights}': {bad}; scores will be NaN");
        }

        model.to(device);
        if (result.GetValue(Half))
        {
            model.half();
        }

        return model;
    }
}
