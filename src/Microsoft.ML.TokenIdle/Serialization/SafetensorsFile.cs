using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>One tensor of a safetensors file: its stored type, shape and raw little-endian bytes.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, ReadOnlyMemory<byte> Bytes)
{
    private static readonly Dictionary<string, ScalarType> Types = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8, ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>The values as a float32 CPU tensor (F32 as is; F16, BF16, F64 and integer types converted by libtorch).</summary>
    public Tensor ToTensor()
    {
        using var stored = empty(Shape, Types[DType], device: CPU);
        Bytes.Span.CopyTo(stored.bytes);
        return stored.to(ScalarType.Float32, copy: true);
    }

    /// <summary>The values of an I64 tensor.</summary>
    /// <exception cref="InvalidDataException">The tensor is not I64.</exception>
    public long[] ToInt64()
    {
        if (DType != "I64")
        {
            throw new InvalidDataException($"tensor '{Name}' has dtype {DType}, expected I64");
        }

        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(Bytes.Span).ToArray();
    }
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// of names → dtype, shape and data offsets, then the raw data. Writes are atomic (temp file + rename).
/// </summary>
public static class SafetensorsFile
{
    private static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    // The format's own cap on the JSON header (safetensors refuses longer ones).
    private const ulong MaxHeaderBytes = 100_000_000;

    /// <summary>Reads every tensor of a file, in header order (regular files only, at most 2 GB).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors, or not a regular file; the message names the file and the problem.</exception>
    public static IReadOnlyDictionary<string, SafetensorsEntry> Read(string path)
        => Parse(BoundedFile.ReadAllBytes(path, Array.MaxLength, "safetensors file"), path);

    /// <summary>
    /// Parses safetensors bytes with the format's rules: a header of at most 100 MB that is a JSON object with unique,
    /// valid UTF-8 names; known dtypes; non-negative shapes whose byte counts fit 64 bits and match their offsets;
    /// offsets inside the data section, not overlapping and covering it without holes. <paramref name="source"/>
    /// names the bytes in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">Any rule is broken; the message names the source, the tensor and the rule.</exception>
    public static IReadOnlyDictionary<string, SafetensorsEntry> Parse(byte[] bytes, string source)
    {
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"'{source}' is not a safetensors file: {bytes.Length} bytes, shorter than the 8-byte header length");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new InvalidDataException($"'{source}' is not a safetensors file or is truncated: header length {headerLength} exceeds the {bytes.Length - 8} bytes that follow");
        }

        if (headerLength > MaxHeaderBytes)
        {
            throw new InvalidDataException($"'{source}': the safetensors header is {headerLength} bytes, over the format's limit of {MaxHeaderBytes}");
        }

        var dataStart = 8 + (int)headerLength;
        // JsonDocument defers UTF-8 validation of names and strings until they are read; check it all up front.
        if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(8, (int)headerLength)))
        {
            throw new InvalidDataException($"'{source}' has a malformed safetensors header: it is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{source}' has a malformed safetensors header: {e.Message}");
        }

        var result = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var ranges = new List<(long Begin, long End, string Name)>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{source}': the safetensors header is not a JSON object");
            }

            var metadata = false;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (metadata || prop.Value.ValueKind != JsonValueKind.Object || prop.Value.EnumerateObject().Any(m => m.Value.ValueKind != JsonValueKind.String))
                    {
                        throw new InvalidDataException($"'{source}': '__metadata__' must appear once, as an object of strings");
                    }

                    metadata = true;
                    continue;
                }

                if (result.ContainsKey(prop.Name))
                {
                    throw new InvalidDataException($"'{source}': tensor name '{prop.Name}' appears twice in the header");
                }

                var (entry, begin, end) = ParseEntry(prop, bytes, dataStart, source);
                result.Add(prop.Name, entry);
                ranges.Add((begin, end, prop.Name));
            }
        }

        CheckCoverage(ranges, bytes.Length - dataStart, source);
        return result;
    }

    private static (SafetensorsEntry Entry, long Begin, long End) ParseEntry(JsonProperty prop, byte[] bytes, int dataStart, string source)
    {
        InvalidDataException Error(string problem) => new($"'{source}': tensor '{prop.Name}': {problem}");
        JsonElement Field(string name)
            => prop.Value.ValueKind == JsonValueKind.Object && prop.Value.TryGetProperty(name, out var field) ? field : throw Error($"has no '{name}' field");
        long[] Integers(string name)
        {
            var field = Field(name);
            if (field.ValueKind != JsonValueKind.Array || field.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var v) || v < 0))
            {
                throw Error($"'{name}' must be an array of non-negative integers, got {field.GetRawText()}");
            }

            return field.EnumerateArray().Select(d => d.GetInt64()).ToArray();
        }

        var dtypeField = Field("dtype");
        var dtype = dtypeField.ValueKind == JsonValueKind.String ? dtypeField.GetString()! : throw Error($"'dtype' must be a string, got {dtypeField.GetRawText()}");
        if (!ElementSizes.TryGetValue(dtype, out var size))
        {
            throw Error($"unknown dtype '{dtype}' (known: {string.Join(", ", ElementSizes.Keys)})");
        }

        var shape = Integers("shape");
        var offsets = Integers("data_offsets");
        var dataLength = bytes.Length - dataStart;
        if (offsets.Length != 2 || offsets[1] < offsets[0] || offsets[1] > dataLength)
        {
            throw Error($"data offsets {Shapes.Format(offsets)} are not a [begin, end] range inside the {dataLength}-byte data section");
        }

        long expected;
        try
        {
            expected = checked(Shapes.Count(shape) * size);
        }
        catch (OverflowException)
        {
            throw Error($"shape {Shapes.Format(shape)} of {dtype} has more bytes than 64 bits can count");
        }

        if (offsets[1] - offsets[0] != expected)
        {
            throw Error($"{offsets[1] - offsets[0]} bytes stored for shape {Shapes.Format(shape)} of {dtype} ({expected} expected)");
        }

        return (new SafetensorsEntry(prop.Name, dtype, shape, bytes.AsMemory(dataStart + (int)offsets[0], (int)expected)), offsets[0], offsets[1]);
    }

    /// <summary>The tensors' byte ranges must tile the data section: no overlap, no hole, nothing after the last.</summary>
    private static void CheckCoverage(List<(long Begin, long End, string Name)> ranges, long dataLength, string source)
    {
        long covered = 0;
        string? previous = null;
        foreach (var (begin, end, name) in ranges.OrderBy(r => r.Begin).ThenBy(r => r.End))
        {
            if (begin != covered)
            {
                var problem = begin < covered ? $"overlaps tensor '{previous}' (bytes {begin}..{covered})" : $"leaves a hole of {begin - covered} bytes after {(previous is null ? "the header" : $"tensor '{previous}'")}";
                throw new InvalidDataException($"'{source}': tensor '{name}' {problem}");
            }

            (covered, previous) = (end, name);
        }

        if (covered != dataLength)
        {
            throw new InvalidDataException($"'{source}': the tensors cover {covered} of the {dataLength} data bytes; the rest belongs to no tensor");
        }
    }

    /// <summary>Writes tensors (in the given order, float32 or U8) and optional metadata, atomically.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => AtomicFile.Write(path, stream => Write(stream, tensors, metadata));

    /// <summary>Writes tensors (in the given order) as float32 little-endian (byte tensors as U8), with optional metadata, to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object>();
        if (metadata is not null)
        {
            header["__metadata__"] = metadata;
        }

        // Contiguous on the CPU, bytes kept as U8 and everything else as float32, as the header says; the copies go with the scope.
        using var scope = NewDisposeScope();
        var values = list.Select(p => p.Value.detach().to(p.Value.dtype == ScalarType.Byte ? ScalarType.Byte : ScalarType.Float32).cpu().contiguous()).ToList();
        long offset = 0;
        for (var i = 0; i < list.Count; i++)
        {
            var bytes = values[i].NumberOfElements * values[i].ElementSize;
            var dtype = values[i].dtype == ScalarType.Byte ? "U8" : "F32";
            header[list[i].Key] = new Dictionary<string, object> { ["dtype"] = dtype, ["shape"] = values[i].shape, ["data_offsets"] = new[] { offset, offset + bytes } };
            offset += bytes;
        }

        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (var value in values)
        {
            stream.Write(value.bytes);
        }
    }
}
