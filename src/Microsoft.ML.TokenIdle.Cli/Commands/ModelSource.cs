using System.CommandLine;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Engine;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.Hub;
using Microsoft.ML.TokenIdle.Nn;
using TorchSharp;

namespace TokenIdle.Cli.Commands;

/// <summary>The options that say which model to build: <c>--config</c> JSON or a <c>--model</c> preset, and <c>--weights</c>.</summary>
internal sealed class ModelSource
{
    public Option<string?> Config { get; } = new("--config") { Description = "model config.json (timm field names)" };

    public Option<string?> Model { get; } = new("--model") { Description = $"named preset ({string.Join(", ", VisionTransformerConfig.PresetNames)}) or a timm checkpoint on the Hugging Face Hub, ORG/NAME (e.g. timm/deit_small_patch16_224.fb_in1k: config and weights fetched into the Hub cache)" };

    public Option<string?> Revision { get; } = new("--revision") { Description = "the Hub revision of --model ORG/NAME: branch, tag or commit hash (default main)" };

    private HubCheckpoint? _checkpoint;

    public Option<string?> Weights { get; } = new("--weights") { Description = "weights as safetensors with timm names (F32/F16/BF16)" };

    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N (cuda needs a CUDA libtorch)", DefaultValueFactory = _ => "cpu" };

    public PrecisionSource PrecisionOptions { get; } = new();

    /// <summary>Adds the options; <c>--half</c> only to commands that score (<paramref name="scoring"/>).</summary>
    public void AddTo(Command command, bool scoring = true)
    {
        command.Options.Add(Config);
        command.Options.Add(Model);
        command.Options.Add(Revision);
        command.Options.Add(Weights);
        command.Options.Add(Device);
        PrecisionOptions.AddTo(command, scoring);
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

        if (configPath is not null)
        {
            return VisionTransformerConfig.Load(configPath);
        }

        return Checkpoint(result, weights: false)?.Config ?? VisionTransformerConfig.FromPreset(preset!);
    }

    /// <summary>The weights file: <c>--weights</c>, or the Hub checkpoint's; null when neither.</summary>
    /// <exception cref="ArgumentException">Both.</exception>
    public string? WeightsPath(ParseResult result)
    {
        var weights = result.GetValue(Weights);
        if (Checkpoint(result) is not { } checkpoint)
        {
            return weights;
        }

        return weights is null ? checkpoint.WeightsPath : throw new ArgumentException($"--weights does not apply to --model {checkpoint.ModelId}: the Hub checkpoint brings its weights");
    }

    /// <summary>
    /// The Hub checkpoint <c>--model ORG/NAME</c> names, fetched once (progress on stderr), with its weights unless
    /// <paramref name="weights"/> is false; null for a preset, zip or config.
    /// </summary>
    /// <exception cref="HubException">It cannot be had (one line).</exception>
    public HubCheckpoint? Checkpoint(ParseResult result, bool weights = true)
    {
        if (result.GetValue(Model) is not { } id || !HubCheckpoint.IsModelId(id))
        {
            return result.GetValue(Revision) is { } revision ? throw new ArgumentException($"--revision {revision} applies to a Hub model (--model ORG/NAME)") : null;
        }

        if (_checkpoint is not null && (_checkpoint.WeightsPath is not null || !weights))
        {
            return _checkpoint;
        }

        _checkpoint = HubCheckpoint.Fetch(
            id,
            result.GetValue(Revision),
            progress: (file, done, total) => Console.Error.WriteLine($"tokenidle: {id}: {file} {done >> 20}/{total >> 20} MB ({(total > 0 ? done * 10 / total * 10 : 100)} %)"),
            weights: weights);
        return _checkpoint;
    }

    /// <summary>
    /// Builds the model on <c>--device</c> (on the CPU when <paramref name="onCpu"/>: for export), converted to
    /// <c>--precision</c> for scoring, or kept float32 for <paramref name="training"/> (mixed precision casts at use);
    /// weights are required unless <paramref name="weightsOptional"/> (random timm initialisation).
    /// </summary>
    public VisionTransformer Build(ParseResult result, bool weightsOptional, bool onCpu = false, bool training = false)
    {
        var device = onCpu ? TorchSharp.torch.CPU : SelectDevice(result);
        var config = LoadConfig(result);
        var weights = WeightsPath(result);

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
        if (!training && Precision(result) is var precision and not Microsoft.ML.TokenIdle.Precision.Float32)
        {
            model.to(precision.ScalarType());
        }

        return model;
    }

    /// <summary>The precision: <c>--precision</c>, or float16 for <c>--half</c>; float32 when neither is given.</summary>
    /// <exception cref="ArgumentException">An unknown name, or <c>--half</c> beside another precision.</exception>
    public Microsoft.ML.TokenIdle.Precision Precision(ParseResult result) => PrecisionOptions.Parse(result) ?? Microsoft.ML.TokenIdle.Precision.Float32;
}
