using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>A timm checkpoint fetched from the Hub (or found in its cache): the architecture and the weights file.</summary>
/// <param name="ModelId">The repository, e.g. <c>timm/deit_small_patch16_224.fb_in1k</c>.</param>
/// <param name="Revision">The revision asked for (a branch, tag or commit).</param>
/// <param name="Config">The architecture and input convention its <c>config.json</c> describes.</param>
/// <param name="ConfigPath">The cached <c>config.json</c> (timm's format, not this library's).</param>
/// <param name="WeightsPath">The cached <c>model.safetensors</c> (timm parameter names); null when only the config was asked for.</param>
public sealed record HubCheckpoint(string ModelId, string Revision, VisionTransformerConfig Config, string ConfigPath, string? WeightsPath)
{
    /// <summary>The default revision: the repository's main branch.</summary>
    public const string DefaultRevision = "main";

    private const long MaxConfigBytes = 1 << 20;

    /// <summary>
    /// Fetches (or finds in the cache) <c>config.json</c> and <c>model.safetensors</c> of <paramref name="modelId"/> at
    /// <paramref name="revision"/>, into the Hub cache huggingface_hub shares (docs/hub.md).
    /// </summary>
    /// <param name="modelId">ORG/NAME, e.g. <c>timm/deit_small_patch16_224.fb_in1k</c>.</param>
    /// <param name="revision">A branch, tag or commit hash; null: <c>main</c>.</param>
    /// <param name="settings">Endpoint, cache, token, offline; null: from the environment (<see cref="HubSettings.FromEnvironment"/>).</param>
    /// <param name="progress">Called with the file's name, bytes so far and its size as a download starts and at each further tenth of it.</param>
    /// <param name="weights">False: fetch <c>config.json</c> only (enough for the architecture, e.g. to count MACs).</param>
    /// <exception cref="HubException">It cannot be had (the message names the repository, file and reason).</exception>
    /// <exception cref="InvalidDataException">Its config describes an architecture this library does not build.</exception>
    public static HubCheckpoint Fetch(string modelId, string? revision = null, HubSettings? settings = null, Action<string, long, long>? progress = null, bool weights = true)
    {
        var repository = HubRepository.Parse(modelId);
        revision ??= DefaultRevision;
        using var client = new HubClient(settings ?? HubSettings.FromEnvironment());
        var configPath = client.Fetch(repository, revision, "config.json", (done, total) => progress?.Invoke("config.json", done, total));
        var config = TimmArchitectures.FromHubConfig(BoundedFile.ReadAllBytes(configPath, MaxConfigBytes, "config file"), $"{modelId}/config.json");
        var weightsPath = weights ? client.Fetch(repository, revision, "model.safetensors", (done, total) => progress?.Invoke("model.safetensors", done, total)) : null;
        return new HubCheckpoint(modelId, revision, config, configPath, weightsPath);
    }

    /// <summary>Whether <paramref name="text"/> (a <c>--model</c> value) names a Hub repository: ORG/NAME, not a file or a zip.</summary>
    public static bool IsModelId(string text) => HubRepository.IsHubId(text) && !text.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);
}
