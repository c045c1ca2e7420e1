using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.TokenIdle.Tests.Fuzzing;

/// <summary>
/// Mutants of an ML.NET model zip holding our transformer: each changes one of the entries the transformer reads
/// (its binary <c>Model.key</c>, <c>config.json</c>, <c>TSModel.safetensors</c>, <c>trainer.json</c>); mutated weights
/// get their SHA-256 re-written into <c>Model.key</c>, so that the parsers behind the checksum are reached. In
/// <c>Model.key</c> only what the transformer reads is mutated, in place: its model block and the string table after
/// it; ML.NET's own file header (offsets, loader assembly name) is ML.NET's to check.
/// </summary>
public sealed class ZipMutants
{
    private static readonly string[] Targets = { "Model.key", "config.json", "TSModel.safetensors", "trainer.json" };
    private readonly List<(string Name, byte[] Bytes)> _entries;
    private readonly string _prefix;

    /// <summary>Reads the entries of a saved model zip.</summary>
    public ZipMutants(byte[] zip)
    {
        Original = zip;
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        _entries = archive.Entries.Select(e => (e.FullName, Read(e))).ToList();
        var weights = _entries.Single(e => e.Name.EndsWith("/TSModel.safetensors", StringComparison.Ordinal)).Name;
        _prefix = weights[..^"TSModel.safetensors".Length];
    }

    /// <summary>The zip as saved.</summary>
    public byte[] Original { get; }

    /// <summary>Mutant number <paramref name="index"/> (the first argument is ignored: mutants start from the saved entries).</summary>
    public byte[] Mutate(byte[] original, int index)
    {
        var entries = _entries.ToDictionary(e => e.Name, e => e.Bytes);
        var target = _prefix + Targets[index % Targets.Length];
        var mutated = target.EndsWith("Model.key", StringComparison.Ordinal) ? MutateModelBlock(entries[target], index) : Mutator.Mutate(entries[target], index);
        if (target.EndsWith("TSModel.safetensors", StringComparison.Ordinal))
        {
            entries[_prefix + "Model.key"] = Rehashed(entries[_prefix + "Model.key"], entries[target], mutated);
        }

        entries[target] = mutated;
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, _) in _entries)
            {
                using var write = archive.CreateEntry(name, CompressionLevel.Fastest).Open();
                write.Write(entries[name]);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Loads a zip with a fresh context (and lets the loaded model go).</summary>
    public static void Load(byte[] zip) => (new MLContext().Model.Load(new MemoryStream(zip), out _) as IDisposable)?.Dispose();

    /// <summary>Replaces an entry of an open archive.</summary>
    public static void Replace(ZipArchive zip, string name, byte[] bytes)
    {
        zip.GetEntry(name)!.Delete();
        using var write = zip.CreateEntry(name).Open();
        write.Write(bytes);
    }

    /// <summary>Replaces the weights and re-writes their checksum in <c>Model.key</c>.</summary>
    public static void ReplaceWeights(ZipArchive zip, string prefix, byte[] weights)
    {
        var key = Read(zip.GetEntry(prefix + "Model.key")!);
        var old = Read(zip.GetEntry(prefix + "TSModel.safetensors")!);
        Replace(zip, prefix + "Model.key", Rehashed(key, old, weights));
        Replace(zip, prefix + "TSModel.safetensors", weights);
    }

    /// <summary>The archive's config.json with one field set.</summary>
    public static byte[] ConfigWith(ZipArchive zip, string prefix, string field, int value)
    {
        var config = JsonNode.Parse(Read(zip.GetEntry(prefix + "config.json")!))!;
        config[field] = value;
        return Encoding.UTF8.GetBytes(config.ToJsonString());
    }

    // The header gives the model block's position (0x10) and the string characters' end (0x30 + 0x38).
    private static byte[] MutateModelBlock(byte[] key, int index)
    {
        var start = (int)BitConverter.ToInt64(key, 0x10);
        var end = (int)(BitConverter.ToInt64(key, 0x30) + BitConverter.ToInt64(key, 0x38));
        var region = Mutator.Mutate(key[start..end], index);
        var copy = (byte[])key.Clone();
        Array.Clear(copy, start, end - start);
        region.AsSpan(0, Math.Min(region.Length, end - start)).CopyTo(copy.AsSpan(start));
        return copy;
    }

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var read = entry.Open();
        using var copy = new MemoryStream();
        read.CopyTo(copy);
        return copy.ToArray();
    }

    // ML.NET keeps strings as UTF-16 in the key's string table; the checksum is upper-case hex of the same length.
    private static byte[] Rehashed(byte[] key, byte[] oldWeights, byte[] newWeights)
    {
        var oldHash = Encoding.Unicode.GetBytes(Convert.ToHexString(SHA256.HashData(oldWeights)));
        var at = key.AsSpan().IndexOf(oldHash);
        if (at < 0)
        {
            throw new InvalidOperationException("the weights' checksum is not in Model.key");
        }

        var copy = (byte[])key.Clone();
        Encoding.Unicode.GetBytes(Convert.ToHexString(SHA256.HashData(newWeights))).CopyTo(copy, at);
        return copy;
    }
}
