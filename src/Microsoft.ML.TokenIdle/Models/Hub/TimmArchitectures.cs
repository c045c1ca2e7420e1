using System.Text.Json;
using System.Text.RegularExpressions;

namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>
/// The timm architectures this library builds, from a Hub checkpoint's <c>config.json</c> (<c>architecture</c>,
/// <c>num_classes</c>, <c>pretrained_cfg</c>: input size, mean, std, interpolation): timm's
/// <c>vit_{tiny,small,base,large}_patch{16,32}_{224,384}</c> and <c>deit_{tiny,small,base}_patch16_{224,384}</c>.
/// Distilled DeiTs (a second, distillation token) and DeiT III (layer scale) are refused by name.
/// </summary>
public static partial class TimmArchitectures
{
    private static readonly Dictionary<string, (int Width, int Depth, int Heads)> Sizes = new(StringComparer.Ordinal)
    {
        ["tiny"] = (192, 12, 3),
        ["small"] = (384, 12, 6),
        ["base"] = (768, 12, 12),
        ["large"] = (1024, 24, 16),
    };

    /// <summary>The architecture a timm <c>config.json</c> describes.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="source">Where it came from, for messages.</param>
    /// <exception cref="InvalidDataException">Not such a config, or an architecture this library does not build (the message says which it does).</exception>
    public static VisionTransformerConfig FromHubConfig(byte[] json, string source)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{source}' is not JSON: {e.Message}", e);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("architecture", out var architectureElement) || architectureElement.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"'{source}' has no \"architecture\": not a timm model config");
        }

        var architecture = architectureElement.GetString()!;
        var match = ArchitecturePattern().Match(architecture);
        if (!match.Success)
        {
            throw new InvalidDataException(Refusal(architecture, source));
        }

        var (family, size, patch, resolution) = (match.Groups[1].Value, match.Groups[2].Value, int.Parse(match.Groups[3].Value), int.Parse(match.Groups[4].Value));
        // timm's create_model(**model_args) overrides: only the input size is understood; anything else would build
        // another network than the name says.
        if (root.TryGetProperty("model_args", out var modelArgs) && modelArgs.ValueKind == JsonValueKind.Object)
        {
            var others = modelArgs.EnumerateObject().Select(a => a.Name).Where(n => n != "img_size").ToList();
            if (others.Count > 0)
            {
                throw new InvalidDataException($"'{source}': model_args {string.Join(", ", others)} change timm's {architecture}, which this library does not build");
            }

            if (modelArgs.TryGetProperty("img_size", out var imgSize) && imgSize.ValueKind == JsonValueKind.Number)
            {
                resolution = imgSize.GetInt32();
            }
        }

        var (width, depth, heads) = Sizes[size];
        var pretrained = root.TryGetProperty("pretrained_cfg", out var cfg) && cfg.ValueKind == JsonValueKind.Object ? cfg : default;
        var inputSize = pretrained.ValueKind == JsonValueKind.Object && pretrained.TryGetProperty("input_size", out var input) && input.ValueKind == JsonValueKind.Array && input.GetArrayLength() == 3
            ? input.EnumerateArray().Select(d => d.GetInt32()).ToArray()
            : new[] { 3, resolution, resolution };
        if (inputSize[1] != inputSize[2])
        {
            throw new InvalidDataException($"'{source}': input_size {inputSize[1]}x{inputSize[2]} is not square");
        }

        double[]? Floats(string name) => pretrained.ValueKind == JsonValueKind.Object && pretrained.TryGetProperty(name, out var values) && values.ValueKind == JsonValueKind.Array
            ? values.EnumerateArray().Select(v => v.GetDouble()).ToArray()
            : null;
        var interpolation = pretrained.ValueKind == JsonValueKind.Object && pretrained.TryGetProperty("interpolation", out var kernel) && kernel.ValueKind == JsonValueKind.String ? kernel.GetString() : null;
        var classes = root.TryGetProperty("num_classes", out var count) && count.ValueKind == JsonValueKind.Number ? count.GetInt32() : 1000;
        var crop = pretrained.ValueKind == JsonValueKind.Object && pretrained.TryGetProperty("crop_pct", out var cropValue) && cropValue.ValueKind == JsonValueKind.Number ? cropValue.GetDouble() : (double?)null;
        var config = new VisionTransformerConfig
        {
            ImageSize = inputSize[1],
            PatchSize = patch,
            InChannels = inputSize[0],
            NumClasses = classes,
            EmbedDim = width,
            Depth = depth,
            NumHeads = heads,
            Mean = Floats("mean"),
            Std = Floats("std"),
            Interpolation = interpolation is "bilinear" or "bicubic" ? interpolation : null,
            CropPercent = crop,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{source}' ({family} {size}): {e.Message}", e);
        }

        return config;
    }

    private static string Refusal(string architecture, string source)
    {
        var reason = architecture switch
        {
            _ when architecture.StartsWith("deit3_", StringComparison.Ordinal) => "DeiT III scales each residual branch (layer scale, timm's ls1/ls2), which this ViT does not have",
            _ when architecture.Contains("distilled", StringComparison.Ordinal) => "a distilled DeiT carries a second (distillation) token and head, which this ViT does not have; take the plain DeiT of the same size, e.g. timm/deit_small_patch16_224.fb_in1k",
            _ => "it is not one of the plain ViT/DeiT architectures this library builds",
        };
        return $"'{source}': architecture '{architecture}' is not supported: {reason}. Supported: vit_{{tiny,small,base,large}}_patch{{16,32}}_{{224,384}} and deit_{{tiny,small,base}}_patch16_{{224,384}}";
    }

    [GeneratedRegex(@"^(vit|deit)_(tiny|small|base|large)_patch(16|32)_(224|384)$")]
    private static partial Regex ArchitecturePattern();
}
