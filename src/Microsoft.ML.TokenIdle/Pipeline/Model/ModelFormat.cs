using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.TokenIdle.Pipeline.Model;

/// <summary>
/// The model zip: <c>TrainingInfo/Version.txt</c>, <c>Schema/Schema.json</c> (the input schema),
/// <c>TransformerChain/Model.key</c> and one <c>TransformerChain/Transform_NNN/</c> folder per step,
/// each with a versioned <c>Model.key</c> naming its loader; <c>TrainingInfo/Manifest.json</c> holds the
/// SHA-256 of every other entry, so a truncated or altered zip is refused before anything is built.
/// </summary>
internal static class ModelFormat
{
    public const string FormatVersion = "Microsoft.ML.TokenIdle model 1";
    private const string Manifest = "TrainingInfo/Manifest.json";

    /// <summary>Loaders by loader signature.</summary>
    private static readonly Dictionary<string, Func<ModelLoadContext, JsonObject, ITransformer>> Loaders = new(StringComparer.Ordinal)
    {
        [TransformerPersistence.ChainLoader] = TransformerPersistence.LoadChain,
        [TransformerPersistence.ValueToKeyLoader] = TransformerPersistence.LoadValueToKey,
        [TransformerPersistence.KeyToValueLoader] = TransformerPersistence.LoadKeyToValue,
        [TransformerPersistence.ImageLoaderLoader] = TransformerPersistence.LoadImageLoader,
        [TransformerPersistence.ResizerLoader] = TransformerPersistence.LoadResizer,
        [TransformerPersistence.PixelsLoader] = TransformerPersistence.LoadPixels,
        [TransformerPersistence.ClassifierLoader] = TransformerPersistence.LoadClassifier,
    };

    public static void Save(ITransformer model, DataViewSchema? inputSchema, Stream output)
    {
        // Built in memory first, so a component that cannot be saved leaves nothing in the caller's stream.
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            TransformerPersistence.SaveChain(new ModelSaveContext(zip, "TransformerChain", hashes), model is IEnumerable<ITransformer> steps ? steps.ToArray() : new[] { model });
            new ModelSaveContext(zip, "Schema", hashes).WriteBinary("Schema.json", s => JsonSerializer.Serialize(s, SchemaSerializer.ToJson(inputSchema)));
            new ModelSaveContext(zip, "TrainingInfo", hashes).WriteBinary("Version.txt", s => s.Write(System.Text.Encoding.UTF8.GetBytes(FormatVersion)));
            using var manifest = zip.CreateEntry(Manifest).Open();
            JsonSerializer.Serialize(manifest, hashes);
        }

        buffer.Position = 0;
        buffer.CopyTo(output);
    }

    public static ITransformer Load(Stream input, string source, MLContext context, out DataViewSchema? inputSchema)
    {
        ZipArchive zip;
        try
        {
            var copy = new MemoryStream();
            input.CopyTo(copy);
            copy.Position = 0;
            zip = new ZipArchive(copy, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"model '{source}' is not a readable zip (truncated or not a model file): {e.Message}", e);
        }

        using (zip)
        {
            Verify(zip, source);
            using (var version = new StreamReader(zip.GetEntry("TrainingInfo/Version.txt")!.Open()))
            {
                var text = version.ReadToEnd();
                if (text != FormatVersion)
                {
                    throw new InvalidDataException($"model '{source}' has format '{text}'; this library reads '{FormatVersion}'");
                }
            }

            using (var schema = zip.GetEntry("Schema/Schema.json")?.Open() ?? throw new InvalidDataException($"model '{source}' has no Schema/Schema.json"))
            {
                inputSchema = SchemaSerializer.FromJson(JsonNode.Parse(schema));
            }

            return LoadComponent(new ModelLoadContext(zip, "TransformerChain", source, context));
        }
    }

    /// <summary>Loads the component in <paramref name="ctx"/>'s folder through the loader its header names.</summary>
    public static ITransformer LoadComponent(ModelLoadContext ctx)
    {
        var settings = ctx.ReadModel();
        var loader = ctx.String(settings, "loader_signature");
        if (!Loaders.TryGetValue(loader, out var load))
        {
            throw ctx.Invalid($"unknown loader signature '{loader}' (written by a newer version or another library)");
        }

        return load(ctx, settings);
    }

    /// <summary>Checks a component's header against what its loader can read.</summary>
    public static void CheckVersion(ModelLoadContext ctx, JsonObject settings, ModelVersion expected)
    {
        var signature = ctx.String(settings, "model_signature");
        var readable = (int)ctx.Number(settings, "version_readable");
        if (signature != expected.ModelSignature)
        {
            throw ctx.Invalid($"model signature '{signature}' is not '{expected.ModelSignature}'");
        }

        if (readable > expected.Written)
        {
            throw ctx.Invalid($"written as version 0x{readable:X8}, this library reads up to 0x{expected.Written:X8}; update the library");
        }
    }

    private static void Verify(ZipArchive zip, string source)
    {
        var manifestEntry = zip.GetEntry(Manifest) ?? throw new InvalidDataException($"model '{source}' has no {Manifest} (not a model zip of this library)");
        JsonObject manifest;
        using (var stream = manifestEntry.Open())
        {
            manifest = JsonNode.Parse(stream) as JsonObject ?? throw new InvalidDataException($"model '{source}': {Manifest} is not a JSON object");
        }

        var names = zip.Entries.Select(e => e.FullName).Where(n => n != Manifest).ToHashSet();
        foreach (var (name, hash) in manifest)
        {
            var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"model '{source}': entry '{name}' is missing (truncated or altered file)");
            names.Remove(name);
            string actual;
            try
            {
                using var stream = entry.Open();
                actual = Convert.ToHexString(SHA256.HashData(stream));
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"model '{source}': entry '{name}' cannot be read ({e.Message}; truncated or altered file)", e);
            }

            if (actual != hash?.GetValue<string>())
            {
                throw new InvalidDataException($"model '{source}': entry '{name}' does not match its checksum (altered or corrupt file)");
            }
        }

        if (names.Count > 0)
        {
            throw new InvalidDataException($"model '{source}': entry '{names.First()}' is not in the manifest (altered file)");
        }
    }
}
