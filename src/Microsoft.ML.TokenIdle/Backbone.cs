using System.Globalization;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.Hub;

namespace Microsoft.ML.TokenIdle;

/// <summary>Where a <see cref="Backbone"/> comes from.</summary>
public enum BackboneSource
{
    /// <summary>A timm checkpoint on the Hugging Face Hub (<see cref="Backbone.ModelId"/>, <see cref="Backbone.Revision"/>), fetched once into its cache.</summary>
    HubModel,

    /// <summary>A timm-style <c>config.json</c> and, optionally, safetensors weights on disk.</summary>
    Files,

    /// <summary>A named architecture (<c>deit-tiny</c>, <c>deit-small</c>, <c>deit-base</c>) with timm's random initialisation.</summary>
    Architecture,

    /// <summary>The Fashion-MNIST ViT embedded in the library (28-px grey images, patch 4, 12 layers, 10 classes).</summary>
    FashionMnist,
}

/// <summary>
/// The network a trainer starts from, as one value: a Hub checkpoint by id (the default is the papers' DeiT-S,
/// <see cref="DefaultModelId"/>), local config and weights files, a named architecture for random initialisation, or
/// the embedded Fashion-MNIST ViT. It is checked (<see cref="Validate"/>) before anything is downloaded or loaded; a Hub
/// checkpoint's small <c>config.json</c> is read before its weights, so the rest of the options are checked against
/// the architecture before the weights are fetched.
/// </summary>
public sealed record Backbone
{
    /// <summary>The papers' backbone: DeiT-S trained on ImageNet-1k, timm's <c>deit_small_patch16_224.fb_in1k</c>.</summary>
    public const string DefaultModelId = "timm/deit_small_patch16_224.fb_in1k";

    /// <summary>The name of the embedded Fashion-MNIST ViT where a backbone is named by text (the CLI's <c>--model</c>).</summary>
    public const string FashionMnistName = "fashion-mnist-vit";

    /// <summary>The default backbone: <see cref="DefaultModelId"/> from the Hub at <c>main</c>.</summary>
    public static Backbone Default { get; } = HubModel(DefaultModelId);

    /// <summary>The embedded Fashion-MNIST ViT with its trained weights (no download): the samples' and tests' backbone, for 28-px grey images.</summary>
    public static Backbone FashionMnist { get; } = new() { Source = BackboneSource.FashionMnist };

    /// <summary>Where the backbone comes from.</summary>
    public BackboneSource Source { get; init; }

    /// <summary>The Hub repository, ORG/NAME (<see cref="BackboneSource.HubModel"/>).</summary>
    public string? ModelId { get; init; }

    /// <summary>The Hub revision: a branch, tag or commit hash; null: <c>main</c> (<see cref="BackboneSource.HubModel"/>).</summary>
    public string? Revision { get; init; }

    /// <summary>The timm-style <c>config.json</c> (<see cref="BackboneSource.Files"/>).</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Safetensors weights with timm names (F32/F16/BF16) for <see cref="BackboneSource.Files"/> or <see cref="BackboneSource.Architecture"/>; null: timm's random initialisation.</summary>
    public string? WeightsPath { get; init; }

    /// <summary>The architecture's name (<see cref="BackboneSource.Architecture"/>): one of <see cref="VisionTransformerConfig.PresetNames"/>; with <see cref="WeightsPath"/>, weights made for it.</summary>
    public string? Architecture { get; init; }

    /// <summary>A timm checkpoint on the Hub, e.g. <c>timm/deit_tiny_patch16_224.fb_in1k</c>, at <paramref name="revision"/> (null: <c>main</c>).</summary>
    public static Backbone HubModel(string modelId, string? revision = null) => new() { Source = BackboneSource.HubModel, ModelId = modelId, Revision = revision };

    /// <summary>A timm-style config and, optionally, weights; without weights the network starts from timm's random initialisation.</summary>
    public static Backbone Files(string configPath, string? weightsPath = null) => new() { Source = BackboneSource.Files, ConfigPath = configPath, WeightsPath = weightsPath };

    /// <summary>A named architecture (<c>deit-tiny</c>, <c>deit-small</c>, <c>deit-base</c>) with timm's random initialisation (pretraining from scratch).</summary>
    public static Backbone RandomlyInitialised(string architecture) => new() { Source = BackboneSource.Architecture, Architecture = architecture };

    /// <summary>Whether the backbone brings trained weights (everything but an architecture or a config without weights).</summary>
    public bool IsPretrained => Source is BackboneSource.HubModel or BackboneSource.FashionMnist || WeightsPath is not null;

    /// <summary>Checks the value describes one backbone and its files exist, without reading or fetching anything.</summary>
    /// <exception cref="ArgumentException">A field is missing, stray or invalid; the message names it.</exception>
    public void Validate()
    {
        switch (Source)
        {
            case BackboneSource.HubModel:
                Require(ModelId is not null && HubCheckpoint.IsModelId(ModelId), $"Backbone.ModelId '{ModelId}' is not a Hub model id (ORG/NAME, e.g. {DefaultModelId})");
                Require(Revision is null || !string.IsNullOrWhiteSpace(Revision), "Backbone.Revision must not be blank (null: main)");
                RequireNone("a Hub backbone brings its own files", (nameof(ConfigPath), ConfigPath), (nameof(WeightsPath), WeightsPath), (nameof(Architecture), Architecture));
                break;
            case BackboneSource.Files:
                Require(ConfigPath is not null, "Backbone.ConfigPath is required for local files (Backbone.Files(config, weights))");
                Require(File.Exists(ConfigPath), $"Backbone.ConfigPath '{ConfigPath}' does not exist");
                Require(WeightsPath is null || File.Exists(WeightsPath), $"Backbone.WeightsPath '{WeightsPath}' does not exist");
                RequireNone("a files backbone reads only ConfigPath and WeightsPath", (nameof(ModelId), ModelId), (nameof(Revision), Revision), (nameof(Architecture), Architecture));
                break;
            case BackboneSource.Architecture:
                Require(Architecture is not null && VisionTransformerConfig.PresetNames.Contains(Architecture.ToLowerInvariant()), $"Backbone.Architecture '{Architecture}' is not one of {string.Join(", ", VisionTransformerConfig.PresetNames)}");
                Require(WeightsPath is null || File.Exists(WeightsPath), $"Backbone.WeightsPath '{WeightsPath}' does not exist");
                RequireNone("a named architecture needs no config file", (nameof(ModelId), ModelId), (nameof(Revision), Revision), (nameof(ConfigPath), ConfigPath));
                break;
            case BackboneSource.FashionMnist:
                RequireNone("the embedded Fashion-MNIST ViT brings its own files", (nameof(ModelId), ModelId), (nameof(Revision), Revision), (nameof(ConfigPath), ConfigPath), (nameof(WeightsPath), WeightsPath), (nameof(Architecture), Architecture));
                break;
            default:
                throw new ArgumentException($"Backbone.Source {(int)Source} is not one of {string.Join(", ", Enum.GetNames<BackboneSource>())}");
        }
    }

    /// <summary>
    /// The architecture and input convention (for a Hub checkpoint its small <c>config.json</c> only: the weights come
    /// later, once everything else has been checked against it). <paramref name="log"/> hears of downloads.
    /// </summary>
    /// <exception cref="HubException">A Hub checkpoint cannot be had; the message's first line names it and the ways out.</exception>
    /// <exception cref="InvalidDataException">A config cannot be read.</exception>
    internal VisionTransformerConfig LoadConfig(Action<string>? log = null) => Source switch
    {
        BackboneSource.HubModel => FetchHub(weights: false, log).Config,
        BackboneSource.Files => VisionTransformerConfig.Load(ConfigPath!),
        BackboneSource.Architecture => VisionTransformerConfig.FromPreset(Architecture!),
        _ => VisionTransformerConfig.Load(PretrainedModels.FashionMnist().ConfigPath),
    };

    /// <summary>The weights file (fetched into the Hub cache for a Hub checkpoint), or null for random initialisation.</summary>
    /// <exception cref="HubException">A Hub checkpoint cannot be had; the message's first line names it and the ways out.</exception>
    internal string? LoadWeights(Action<string>? log = null) => Source switch
    {
        BackboneSource.HubModel => FetchHub(weights: true, log).WeightsPath,
        BackboneSource.FashionMnist => PretrainedModels.FashionMnist().WeightsPath,
        _ => WeightsPath,
    };

    private HubCheckpoint FetchHub(bool weights, Action<string>? log)
    {
        try
        {
            // As ML.NET's trainers report progress: one message as a download starts and at each further tenth of the file.
            return HubCheckpoint.Fetch(ModelId!, Revision, progress: (file, done, total) => log?.Invoke($"{ModelId}: downloading {file}, {done >> 20} of {total >> 20} MB"), weights: weights);
        }
        catch (HubException e)
        {
            throw new HubException($"the backbone {ModelId} cannot be had: {e.Message}. Or choose another backbone (local config and weights files, or another Hub id)", e);
        }
    }

    /// <summary>The backbone in words, as logs name it.</summary>
    public override string ToString() => Source switch
    {
        BackboneSource.HubModel => string.Create(CultureInfo.InvariantCulture, $"{ModelId} at {Revision ?? HubCheckpoint.DefaultRevision}"),
        BackboneSource.Files => WeightsPath is null ? $"'{ConfigPath}' with random weights" : $"'{ConfigPath}' with '{WeightsPath}'",
        BackboneSource.Architecture => WeightsPath is null ? $"{Architecture} with random weights" : $"{Architecture} with '{WeightsPath}'",
        BackboneSource.FashionMnist => "the embedded Fashion-MNIST ViT",
        _ => $"backbone source {(int)Source}",
    };

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }

    private static void RequireNone(string why, params (string Name, string? Value)[] fields)
    {
        if (fields.FirstOrDefault(f => f.Value is not null) is { Name: { } name })
        {
            throw new ArgumentException($"{why}: Backbone.{name} does not apply");
        }
    }
}
