namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>
/// Where and how checkpoints are fetched from the Hugging Face Hub, with the environment variables Python's
/// huggingface_hub reads: <c>HF_ENDPOINT</c>, <c>HF_HUB_CACHE</c> (else <c>HF_HOME</c>/hub, else
/// ~/.cache/huggingface/hub), <c>HF_TOKEN</c> (else the token file in <c>HF_HOME</c>) and <c>HF_HUB_OFFLINE</c>.
/// </summary>
public sealed record HubSettings
{
    /// <summary>The Hub's address (<c>HF_ENDPOINT</c>; default https://huggingface.co).</summary>
    public string Endpoint { get; init; } = "https://huggingface.co";

    /// <summary>The cache folder, in the Hub's layout (<c>models--ORG--NAME/blobs|snapshots|refs</c>).</summary>
    public string CacheFolder { get; init; } = DefaultCacheFolder(null, null);

    /// <summary>A user access token, sent as a bearer token (gated or private repositories); null for none.</summary>
    public string? Token { get; init; }

    /// <summary>Use the cache only, never the network (<c>HF_HUB_OFFLINE=1</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>The settings the environment gives, as huggingface_hub reads them.</summary>
    public static HubSettings FromEnvironment()
    {
        static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
        var home = Variable("HF_HOME");
        var token = Variable("HF_TOKEN");
        var tokenFile = Path.Combine(home ?? Path.Combine(UserHome(), ".cache", "huggingface"), "token");
        if (token is null && File.Exists(tokenFile))
        {
            token = File.ReadAllText(tokenFile).Trim() is { Length: > 0 } stored ? stored : null;
        }

        return new HubSettings
        {
            Endpoint = (Variable("HF_ENDPOINT") ?? "https://huggingface.co").TrimEnd('/'),
            CacheFolder = DefaultCacheFolder(Variable("HF_HUB_CACHE"), home),
            Token = token,
            Offline = Variable("HF_HUB_OFFLINE")?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on",
        };
    }

    private static string DefaultCacheFolder(string? hubCache, string? home)
        => hubCache ?? Path.Combine(home ?? Path.Combine(UserHome(), ".cache", "huggingface"), "hub");

    private static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
