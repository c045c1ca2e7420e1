using System.CommandLine;
using Microsoft.ML.TokenIdle.Models;

namespace TokenIdle.Cli.Commands;

/// <summary>The options that say which model to build: <c>--config</c> JSON or a <c>--model</c> preset, and <c>--weights</c>.</summary>
internal sealed class ModelSource
{
    public Option<string?> Config { get; } = new("--config") { Description = "model config.json (timm field names)" };

    public Option<string?> Model { get; } = new("--model") { Description = $"named preset: {string.Join(", ", VisionTransformerConfig.PresetNames)}" };

    public Option<string?> Weights { get; } = new("--weights") { Description = "weights as safetensors with timm names (F32/F16/BF16)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Model);
        command.Options.Add(Weights);
    }

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

    /// <summary>Builds the model; weights are required unless <paramref name="weightsOptional"/> (random timm initialisation).</summary>
    public VisionTransformer Build(ParseResult result, bool weightsOptional)
    {
        var model = new VisionTransformer(LoadConfig(result));
        var weights = result.GetValue(Weights);
        if (weights is not null)
        {
            model.LoadWeights(weights);
        }
        else if (!weightsOptional)
        {
            throw new ArgumentException("--weights FILE is required");
        }

        return model;
    }
}
