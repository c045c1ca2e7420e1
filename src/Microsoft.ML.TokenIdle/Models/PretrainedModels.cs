using System.Reflection;
using System.Security.Cryptography;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>A model's files on disk: timm-style <c>config.json</c> and safetensors weights.</summary>
/// <param name="ConfigPath">The config file.</param>
/// <param name="WeightsPath">The weights file.</param>
public sealed record PretrainedModel(string ConfigPath, string WeightsPath);

/// <summary>
/// Models shipped inside the library (no download): the Fashion-MNIST ViT of
/// <c>models/fashion-mnist-vit</c> (12 layers, 96 wide, 28×28 grey, patch 4, 10 classes), trained by this
/// library's own code (<c>docs/results-fashion-mnist.md</c>).
/// </summary>
public static class PretrainedModels
{
    private const string Prefix = "Microsoft.ML.TokenIdle.Models.FashionMnistVit.";

    /// <summary>
    /// The Fashion-MNIST backbone, written once to <paramref name="cacheFolder"/> (default: the temp
    /// folder) under a name that includes its checksum, so a changed model never reuses stale files.
    /// </summary>
    public static PretrainedModel FashionMnist(string? cacheFolder = null)
    {
        var assembly = typeof(PretrainedModels).Assembly;
        var config = Read(assembly, "config.json");
        var weights = Read(assembly, "model.safetensors");
        var hash = Convert.ToHexString(SHA256.HashData(weights))[..12].ToLowerInvariant();
        var folder = Directory.CreateDirectory(Path.Combine(cacheFolder ?? Path.GetTempPath(), "tokenidle", $"fashion-mnist-vit-{hash}")).FullName;
        var model = new PretrainedModel(Path.Combine(folder, "config.json"), Path.Combine(folder, "model.safetensors"));
        foreach (var (path, bytes) in new[] { (model.ConfigPath, config), (model.WeightsPath, weights) })
        {
            if (!File.Exists(path) || new FileInfo(path).Length != bytes.Length)
            {
                Serialization.AtomicFile.Write(path, stream => stream.Write(bytes));
            }
        }

        return model;
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(Prefix + name) ?? throw new InvalidOperationException($"the library was built without its embedded model file '{name}'");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
