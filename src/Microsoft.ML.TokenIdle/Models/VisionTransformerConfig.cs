using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// Architecture of a ViT with one class token (timm / DeiT), with the field names of timm and of
/// the fixtures' <c>config.json</c>.
/// </summary>
public sealed record VisionTransformerConfig
{
    /// <summary>Input height = width in pixels.</summary>
    [JsonPropertyName("img_size")] public int ImageSize { get; init; } = 224;

    /// <summary>Square patch size P.</summary>
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 16;

    /// <summary>Input channels.</summary>
    [JsonPropertyName("in_chans")] public int InChannels { get; init; } = 3;

    /// <summary>Classifier outputs.</summary>
    [JsonPropertyName("num_classes")] public int NumClasses { get; init; } = 1000;

    /// <summary>Token width E.</summary>
    [JsonPropertyName("embed_dim")] public int EmbedDim { get; init; } = 384;

    /// <summary>Number of blocks.</summary>
    [JsonPropertyName("depth")] public int Depth { get; init; } = 12;

    /// <summary>Attention heads.</summary>
    [JsonPropertyName("num_heads")] public int NumHeads { get; init; } = 6;

    /// <summary>MLP hidden width = floor(E · ratio).</summary>
    [JsonPropertyName("mlp_ratio")] public double MlpRatio { get; init; } = 4.0;

    /// <summary>Whether the qkv projection has a bias.</summary>
    [JsonPropertyName("qkv_bias")] public bool QkvBias { get; init; } = true;

    /// <summary>LayerNorm epsilon.</summary>
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-6;

    /// <summary>Stochastic-depth rate of the last block in training (linearly increasing from 0, as timm).</summary>
    [JsonPropertyName("drop_path_rate")] public double DropPathRate { get; init; }

    /// <summary>
    /// Per-channel mean (0..1 scale) the model's inputs were normalised with, as in timm's pretrained
    /// config; null when the config does not say (then the data source's own convention applies).
    /// </summary>
    [JsonPropertyName("mean")] public double[]? Mean { get; init; }

    /// <summary>Per-channel standard deviation matching <see cref="Mean"/>; null when not recorded.</summary>
    [JsonPropertyName("std")] public double[]? Std { get; init; }

    /// <summary>
    /// The input normalisation: <see cref="Mean"/>/<see cref="Std"/> when recorded, else timm's ImageNet
    /// defaults for RGB models and 0.5/0.5 for others.
    /// </summary>
    public (float[] Mean, float[] Std) InputNormalization()
    {
        if (Mean is not null && Std is not null)
        {
            return (Mean.Select(m => (float)m).ToArray(), Std.Select(s => (float)s).ToArray());
        }

        return InChannels == 3
            ? (new[] { 0.485f, 0.456f, 0.406f }, new[] { 0.229f, 0.224f, 0.225f })
            : (Enumerable.Repeat(0.5f, InChannels).ToArray(), Enumerable.Repeat(0.5f, InChannels).ToArray());
    }

    /// <summary>The model's input convention: size, channels and <see cref="InputNormalization"/>.</summary>
    [JsonIgnore]
    public Imaging.ImageInputFormat InputFormat
    {
        get
        {
            var (mean, std) = InputNormalization();
            return new Imaging.ImageInputFormat(ImageSize, InChannels, mean, std);
        }
    }

    /// <summary>Patches per side.</summary>
    [JsonIgnore] public int GridSize => ImageSize / PatchSize;

    /// <summary>Patch tokens.</summary>
    [JsonIgnore] public int NumPatches => GridSize * GridSize;

    /// <summary>MLP hidden width.</summary>
    [JsonIgnore] public int MlpHidden => (int)Math.Floor(EmbedDim * MlpRatio);

    /// <summary>DeiT-Tiny: 192 wide, 3 heads, 12 blocks, 224 px, patch 16.</summary>
    public static VisionTransformerConfig DeitTiny { get; } = new() { EmbedDim = 192, NumHeads = 3 };

    /// <summary>DeiT-Small: 384 wide, 6 heads.</summary>
    public static VisionTransformerConfig DeitSmall { get; } = new() { EmbedDim = 384, NumHeads = 6 };

    /// <summary>DeiT-Base: 768 wide, 12 heads.</summary>
    public static VisionTransformerConfig DeitBase { get; } = new() { EmbedDim = 768, NumHeads = 12 };

    /// <summary>Names accepted by <see cref="FromPreset"/>.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = new[] { "deit-tiny", "deit-small", "deit-base" };

    /// <summary>A named preset: <c>deit-tiny</c>, <c>deit-small</c> or <c>deit-base</c>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static VisionTransformerConfig FromPreset(string name) => name.ToLowerInvariant() switch
    {
        "deit-tiny" => DeitTiny,
        "deit-small" => DeitSmall,
        "deit-base" => DeitBase,
        _ => throw new ArgumentException($"unknown model preset '{name}': expected one of {string.Join(", ", PresetNames)}"),
    };

    /// <summary>Reads a <c>config.json</c> and validates it.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or describes an impossible model.</exception>
    public static VisionTransformerConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"config file '{path}' does not exist", path);
        }

        VisionTransformerConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<VisionTransformerConfig>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"config '{path}' is not valid: {e.Message}");
        }

        if (config is null)
        {
            throw new InvalidDataException($"config '{path}' is empty");
        }

        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"config '{path}': {e.Message}");
        }

        return config;
    }

    /// <summary>Checks that the numbers describe a buildable model.</summary>
    /// <exception cref="ArgumentException">Names the field and value at fault.</exception>
    public void Validate()
    {
        static void Positive(int v, string name)
        {
            if (v < 1)
            {
                throw new ArgumentException($"{name} must be positive, got {v}");
            }
        }

        Positive(ImageSize, "img_size");
        Positive(PatchSize, "patch_size");
        Positive(InChannels, "in_chans");
        Positive(NumClasses, "num_classes");
        Positive(EmbedDim, "embed_dim");
        Positive(Depth, "depth");
        Positive(NumHeads, "num_heads");
        if (ImageSize % PatchSize != 0)
        {
            throw new ArgumentException($"img_size {ImageSize} is not a multiple of patch_size {PatchSize}");
        }

        if (EmbedDim % NumHeads != 0)
        {
            throw new ArgumentException($"embed_dim {EmbedDim} is not divisible by num_heads {NumHeads}");
        }

        if (!(MlpRatio > 0) || !(LayerNormEps > 0) || !(DropPathRate >= 0 && DropPathRate < 1))
        {
            throw new ArgumentException($"mlp_ratio {MlpRatio} and layer_norm_eps {LayerNormEps} must be positive, drop_path_rate {DropPathRate} in [0, 1)");
        }

        if ((Mean is null) != (Std is null) || (Mean is not null && (Mean.Length != InChannels || Std!.Length != InChannels || Std.Any(s => !(s > 0)))))
        {
            throw new ArgumentException($"mean and std must be given together, one value per channel ({InChannels}), std positive");
        }
    }

    /// <summary>The config as JSON with timm's field names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true });
}
