using System.Text.RegularExpressions;

namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>A model repository on the Hub, <c>ORG/NAME</c> (e.g. <c>timm/deit_small_patch16_224.fb_in1k</c>).</summary>
internal sealed partial record HubRepository(string Id)
{
    /// <summary>Whether <paramref name="text"/> names a Hub repository rather than a file, a zip or a preset.</summary>
    public static bool IsHubId(string text) => IdPattern().IsMatch(text) && !File.Exists(text) && !Directory.Exists(text);

    /// <summary>The repository <paramref name="id"/> names.</summary>
    /// <exception cref="ArgumentException">Not ORG/NAME with the Hub's allowed characters.</exception>
    public static HubRepository Parse(string id)
        => IdPattern().IsMatch(id) ? new HubRepository(id) : throw new ArgumentException($"'{id}' is not a Hub model id (ORG/NAME, e.g. timm/deit_small_patch16_224.fb_in1k)");

    /// <summary>The repository's folder in the cache: <c>models--ORG--NAME</c>.</summary>
    public string FolderName => "models--" + Id.Replace("/", "--", StringComparison.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")]
    private static partial Regex IdPattern();
}
