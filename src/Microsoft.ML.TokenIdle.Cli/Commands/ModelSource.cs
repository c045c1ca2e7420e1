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

    public Option<string?> Model { get; } = new("--model") { Description = $"named architecture ({string.Join(", ", VisionTransformerConfig.PresetNames)}; random weights unless --weights), {Microsoft.ML.TokenIdle.Backbone.FashionMnistName} (the embedded Fashion-MNIST ViT) or a timm checkpoint on the Hugging Face Hub, ORG/NAME (e.g. {Microsoft.ML.TokenIdle.Backbone.DefaultModelId}: config and weights fetched into the Hub cache)" };

    public Option<string?> Revision { get; } = new("--revision") { Description = "the Hub revision of --model ORG/NAME: branch, tag or commit hash (default main)" };

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

    /// <summary>
    /// The backbone the flags name, as the trainers' <c>Options.Backbone</c> names it: <c>--model ORG/NAME</c>
    /// [<c>--revision</c>] (a Hub checkpoint), <c>--model PRESET</c> [<c>--weights</c>] (a named architecture),
    /// <c>--model fashion-mnist-vit</c> (the embedded model), <c>--config FILE</c> [<c>--weights</c>]; null when none is named.
    /// </summary>
    /// <exception cref="ArgumentException">Flags that name two backbones or do not fit the one named.</exception>
    public Backbone? Backbone(ParseResult result)
    {
        var (configPath, model, weights, revision) = (result.GetValue(Config), result.GetValue(Model), result.GetValue(Weights), result.GetValue(Revision));
        if (configPath is not null && model is not null)
        {
            throw new ArgumentException($"give --config FILE or --model NAME, not both (got '{configPath}' and '{model}')");
        }

        var hub = model is not null && HubCheckpoint.IsModelId(model);
        if (revision is not null && !hub)
        {
            throw new ArgumentException($"--revision {revision} applies to a Hub model (--model ORG/NAME)");
        }

        if (model is null)
        {
            return configPath is not null ? Microsoft.ML.TokenIdle.Backbone.Files(configPath, weights)
                : weights is null ? null
                : throw new ArgumentException($"--weights '{weights}' needs the architecture it was made for: give --config FILE or --model PRESET");
        }

        if (hub || model == Microsoft.ML.TokenIdle.Backbone.FashionMnistName)
        {
            return weights is not null ? throw new ArgumentException($"--weights does not apply to --model {model}: it brings its weights")
                : hub ? Microsoft.ML.TokenIdle.Backbone.HubModel(model, revision) : Microsoft.ML.TokenIdle.Backbone.FashionMnist;
        }

        var preset = Microsoft.ML.TokenIdle.Backbone.RandomlyInitialised(model) with { WeightsPath = weights };
        preset.Validate();
        return preset;
    }

    /// <summary>The architecture from <c>--config</c> or <c>--model</c> (one is required; a Hub checkpoint's config only).</summary>
    public VisionTransformerConfig LoadConfig(ParseResult result) => Required(result).LoadConfig(Progress);

    /// <summary>The weights file: <c>--weights</c>, the Hub checkpoint's or the embedded model's; null when neither.</summary>
    public string? WeightsPath(ParseResult result) => Required(result).LoadWeights(Progress);

    private Microsoft.ML.TokenIdle.Backbone Required(ParseResult result)
        => Backbone(result) ?? throw new ArgumentException($"give --config FILE or --model NAME (a preset: {string.Join(", ", VisionTransformerConfig.PresetNames)}; {Microsoft.ML.TokenIdle.Backbone.FashionMnistName}; or a Hub checkpoint ORG/NAME)");

    private static void Progress(string message) => Console.Error.WriteLine($"tokenidle: {message}");

    /// <summary>The Hub checkpoint <c>--model ORG/NAME</c> names, fetched with its weights (progress on stderr); null for anything else.</summary>
    /// <exception cref="HubException">It cannot be had (one line).</exception>
    public HubCheckpoint? Checkpoint(ParseResult result)
        => Backbone(result) is { Source: BackboneSource.HubModel } hub
            ? HubCheckpoint.Fetch(hub.ModelId!, hub.Revision, progress: (file, done, total) => Progress($"{hub.ModelId}: {file} {done >> 20}/{total >> 20} MB ({(total > 0 ? done * 10 / total * 10 : 100)} %)"))
            : null;

    /// <summary>
    /// Builds the model on <c>--device</c> (on the CPU when <paramref name="onCpu"/>: for export), converted to
    /// <c>--precision</c> for scoring, or kept float32 for <paramref name="training"/> (mixed precision casts at use);
    /// weights are required unless <paramref name="weightsOptional"/> (random timm initialisation).
    /// </summary>
    public VisionTransformer Build(ParseResult result, bool weightsOptional, bool onCpu = false, bool training = false)
    {
        var device = onCpu ? TorchSharp.torch.CPU : SelectDevice(result);
        var backbone = Required(result);
        var config = backbone.LoadConfig(Progress);
        var weights = backbone.LoadWeights(Progress);

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
