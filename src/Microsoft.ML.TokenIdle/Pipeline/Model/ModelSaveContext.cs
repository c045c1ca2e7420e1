using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.TokenIdle.Pipeline.Model;

/// <summary>
/// Writes one component into its folder of a model zip: a <c>Model.key</c> JSON entry with the version
/// header (model signature, written/readable versions, loader signature) and the component's settings,
/// plus any binary entries (weights).
/// </summary>
internal sealed class ModelSaveContext
{
    private readonly ZipArchive _zip;
    private readonly string _folder;
    private readonly Dictionary<string, string> _hashes;

    /// <summary>A context writing into <paramref name="folder"/>; every entry's SHA-256 goes into <paramref name="hashes"/> (for the manifest).</summary>
    public ModelSaveContext(ZipArchive zip, string folder, Dictionary<string, string> hashes) => (_zip, _folder, _hashes) = (zip, folder, hashes);

    /// <summary>Writes <c>Model.key</c>: the header fields and <paramref name="settings"/>.</summary>
    public void WriteModel(ModelVersion version, JsonObject settings)
    {
        settings["model_signature"] = version.ModelSignature;
        settings["version_written"] = version.Written;
        settings["version_readable"] = version.Readable;
        settings["loader_signature"] = version.LoaderSignature;
        WriteBinary("Model.key", stream => JsonSerializer.Serialize(stream, settings, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Writes a named binary entry and records its hash.</summary>
    public void WriteBinary(string name, Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        var path = $"{_folder}/{name}";
        _hashes[path] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
        using var stream = _zip.CreateEntry(path, CompressionLevel.Fastest).Open();
        buffer.Position = 0;
        buffer.CopyTo(stream);
    }

    /// <summary>A context for a sub-folder.</summary>
    public ModelSaveContext Child(string name) => new(_zip, $"{_folder}/{name}", _hashes);
}

/// <summary>Reads a component's folder of a model zip (see <see cref="ModelSaveContext"/>).</summary>
internal sealed class ModelLoadContext
{
    private readonly ZipArchive _zip;
    private readonly string _folder;

    public ModelLoadContext(ZipArchive zip, string folder, string source, MLContext context) => (_zip, _folder, Source, Context) = (zip, folder, source, context);

    /// <summary>The zip's path (for errors).</summary>
    public string Source { get; }

    /// <summary>The loading context (device settings, log).</summary>
    public MLContext Context { get; }

    /// <summary>The component's settings from <c>Model.key</c>.</summary>
    public JsonObject ReadModel()
    {
        return JsonNode.Parse(ReadBytes("Model.key")) as JsonObject ?? throw Invalid("Model.key is not a JSON object");
    }

    /// <summary>The bytes of a named binary entry of the component.</summary>
    /// <exception cref="InvalidDataException">The entry is missing.</exception>
    public byte[] ReadBytes(string name)
    {
        var entry = _zip.GetEntry($"{_folder}/{name}") ?? throw Invalid($"entry '{_folder}/{name}' is missing");
        using var copy = new MemoryStream();
        using (var stream = entry.Open())
        {
            stream.CopyTo(copy);
        }

        return copy.ToArray();
    }

    /// <summary>A context for a sub-folder.</summary>
    public ModelLoadContext Child(string name) => new(_zip, $"{_folder}/{name}", Source, Context);

    /// <summary>Whether the sub-folder has a <c>Model.key</c>.</summary>
    public bool HasChild(string name) => _zip.GetEntry($"{_folder}/{name}/Model.key") is not null;

    /// <summary>An error naming the zip and the component's folder.</summary>
    public InvalidDataException Invalid(string what) => new($"model '{Source}' ({_folder}): {what}");

    /// <summary>A required string setting.</summary>
    public string String(JsonObject settings, string key) => settings[key]?.GetValue<string>() ?? throw Invalid($"setting '{key}' is missing");

    /// <summary>A required number setting.</summary>
    public double Number(JsonObject settings, string key) => settings[key]?.GetValue<double>() ?? throw Invalid($"setting '{key}' is missing");
}

/// <summary>A component's version header, as ML.NET's <c>VersionInfo</c>.</summary>
internal sealed record ModelVersion(string ModelSignature, int Written, int Readable, string LoaderSignature);
