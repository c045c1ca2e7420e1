using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// Architecture of a ViT with one class token (timm / DeiT), with the field names of timm and of
/// the fixtures' <c>config.json</c>.
/// </summary>
public sealed record VisionTransformerConfig
{
    // The fields a config.json must give: the architecture. The others have timm's defaults.
    private static readonly string[] RequiredFields = { "img_size", "patch_size", "in_chans", "num_classes", "embed_dim", "depth", "num_heads" };

    // Sane limits, far above any published ViT (ViT-22B: 48 blocks, 6144 wide, 2·10¹⁰ parameters would not load here anyway).
    private const int MaxImageSize = 8192;
    private const int MaxChannels = 64;
    private const int MaxClasses = 1_000_000;
    private const int MaxEmbedDim = 16_384;
    private const int MaxDepth = 1024;
    private const int MaxTokens = 65_536;
    private const double MaxMlpRatio = 64;
    private const long MaxParameters = 1L << 32;

    // A config file is a few hundred bytes; anything this large is not one.
    private const int MaxFileBytes = 1 << 20;

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
    /// The resize kernel the model's inputs were prepared with, as timm's pretrained config names it: <c>bilinear</c>
    /// or <c>bicubic</c>; null: bilinear.
    /// </summary>
    [JsonPropertyName("interpolation")] public string? Interpolation { get; init; }

    /// <summary>
    /// timm's evaluation crop, <c>crop_pct</c> of the pretrained config (0.875 for DeiT: resize the shorter side to
    /// 256, keep the centre 224); null: no crop beyond the centred square.
    /// </summary>
    [JsonPropertyName("crop_pct")] public double? CropPercent { get; init; }

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
            return new Imaging.ImageInputFormat(ImageSize, InChannels, mean, std)
            {
                Filter = Interpolation == "bicubic" ? Imaging.ResamplingFilter.Bicubic : Imaging.ResamplingFilter.Bilinear,
                CropPercent = CropPercent,
            };
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

    /// <summary>Reads a <c>config.json</c> (a regular file of at most 1 MiB) and validates it (see <see cref="Parse"/>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid config; the message names it and the problem.</exception>
    public static VisionTransformerConfig Load(string path) => Parse(BoundedFile.ReadAllBytes(path, MaxFileBytes, "config file"), path);

    /// <summary>
    /// Parses config JSON: an object with each field at most once, the architecture fields (<c>img_size</c>,
    /// <c>patch_size</c>, <c>in_chans</c>, <c>num_classes</c>, <c>embed_dim</c>, <c>depth</c>, <c>num_heads</c>) all
    /// present, then <see cref="Validate"/>. Other fields default to timm's values; unknown fields are ignored.
    /// </summary>
    /// <exception cref="InvalidDataException">Malformed, a field repeated or missing (all missing ones listed), or an impossible model; the message starts with <paramref name="source"/>.</exception>
    public static VisionTransformerConfig Parse(byte[] json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"config '{source}' is not a JSON object");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in root.EnumerateObject())
            {
                if (!seen.Add(field.Name))
                {
                    throw new InvalidDataException($"config '{source}': field '{field.Name}' appears twice");
                }
            }

            var missing = RequiredFields.Where(f => !seen.Contains(f)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidDataException($"config '{source}' lacks {string.Join(", ", missing)} (required: {string.Join(", ", RequiredFields)})");
            }

            var config = root.Deserialize<VisionTransformerConfig>()!;
            config.Validate();
            return config;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"config '{source}' is not valid: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"config '{source}': {e.Message}");
        }
    }

    /// <summary>Every parameter's timm name and shape, computed from the numbers alone (nothing is allocated).</summary>
    public IEnumerable<KeyValuePair<string, long[]>> ParameterShapes()
    {
        long e = EmbedDim, h = MlpHidden;
        KeyValuePair<string, long[]> P(string name, params long[] shape) => KeyValuePair.Create(name, shape);
        yield return P("cls_token", 1, 1, e);
        yield return P("pos_embed", 1, NumPatches + 1, e);
        yield return P("patch_embed.proj.weight", e, InChannels, PatchSize, PatchSize);
        yield return P("patch_embed.proj.bias", e);
        for (var i = 0; i < Depth; i++)
        {
            var b = $"blocks.{i}.";
            yield return P(b + "norm1.weight", e);
            yield return P(b + "norm1.bias", e);
            yield return P(b + "attn.qkv.weight", 3 * e, e);
            if (QkvBias)
            {
                yield return P(b + "attn.qkv.bias", 3 * e);
            }

            yield return P(b + "attn.proj.weight", e, e);
            yield return P(b + "attn.proj.bias", e);
            yield return P(b + "norm2.weight", e);
            yield return P(b + "norm2.bias", e);
            yield return P(b + "mlp.fc1.weight", h, e);
            yield return P(b + "mlp.fc1.bias", h);
            yield return P(b + "mlp.fc2.weight", e, h);
            yield return P(b + "mlp.fc2.bias", e);
        }

        yield return P("norm.weight", e);
        yield return P("norm.bias", e);
        yield return P("head.weight", NumClasses, e);
        yield return P("head.bias", NumClasses);
    }

    /// <summary>The number of parameters (<see cref="ParameterShapes"/>), in 64-bit arithmetic.</summary>
    public long ParameterCount()
    {
        // Per block: the two norms, qkv, proj and the MLP; the blocks' count is capped before this runs.
        long e = EmbedDim, h = MlpHidden, p = PatchSize;
        var block = 4 * e + 3 * e * e + (QkvBias ? 3 * e : 0) + e * e + e + h * e + h + e * h + e;
        return e * (1 + NumPatches + 1) + e * InChannels * p * p + e + Depth * block + 2 * e + NumClasses * (e + 1);
    }

    /// <summary>Checks that the numbers describe a buildable model.</summary>
    /// <exception cref="ArgumentException">Names the field and value at fault.</exception>
    public void Validate()
    {
        static void InRange(int v, string name, int max)
        {
            if (v < 1 || v > max)
            {
                throw new ArgumentException($"{name} must be between 1 and {max}, got {v}");
            }
        }

        InRange(ImageSize, "img_size", MaxImageSize);
        InRange(PatchSize, "patch_size", MaxImageSize);
        InRange(InChannels, "in_chans", MaxChannels);
        InRange(NumClasses, "num_classes", MaxClasses);
        InRange(EmbedDim, "embed_dim", MaxEmbedDim);
        InRange(Depth, "depth", MaxDepth);
        InRange(NumHeads, "num_heads", MaxEmbedDim);
        if (ImageSize % PatchSize != 0)
        {
            throw new ArgumentException($"img_size {ImageSize} is not a multiple of patch_size {PatchSize}");
        }

        if (EmbedDim % NumHeads != 0)
        {
            throw new ArgumentException($"embed_dim {EmbedDim} is not divisible by num_heads {NumHeads}");
        }

        if (!(MlpRatio > 0 && MlpRatio <= MaxMlpRatio) || !(LayerNormEps > 0 && LayerNormEps < 1) || !(DropPathRate >= 0 && DropPathRate < 1))
        {
            throw new ArgumentException($"mlp_ratio {MlpRatio} must be in (0, {MaxMlpRatio}], layer_norm_eps {LayerNormEps} in (0, 1), drop_path_rate {DropPathRate} in [0, 1)");
        }

        if ((long)GridSize * GridSize + 1 > MaxTokens)
        {
            throw new ArgumentException($"img_size {ImageSize} with patch_size {PatchSize} gives {(long)GridSize * GridSize + 1} tokens, over the limit of {MaxTokens}");
        }

        if (MlpHidden < 1 || ParameterCount() > MaxParameters)
        {
            throw new ArgumentException($"the architecture has {ParameterCount():N0} parameters (MLP width {MlpHidden}), outside 1 to {MaxParameters:N0}");
        }

        if ((Mean is null) != (Std is null) || (Mean is not null && (Mean.Length != InChannels || Std!.Length != InChannels || Std.Any(s => !(s > 0) || !double.IsFinite(s)) || Mean.Any(m => !double.IsFinite(m)))))
        {
            throw new ArgumentException($"mean and std must be given together, one finite value per channel ({InChannels}), std positive");
        }

        if (Interpolation is not (null or "bilinear" or "bicubic"))
        {
            throw new ArgumentException($"interpolation '{Interpolation}' is not one of bilinear, bicubic");
        }

        if (CropPercent is { } crop && !(crop > 0 && crop <= 1))
        {
            throw new ArgumentException($"crop_pct {crop} is outside (0, 1]");
        }
    }

    /// <summary>The config as JSON with timm's field names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true });
}
