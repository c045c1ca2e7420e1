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
        using var stored = empty(Shape, Types[DType]);
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

    /// <summary>Reads every tensor of a file, in header order.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message names the file and the problem.</exception>
    public static IReadOnlyDictionary<string, SafetensorsEntry> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"safetensors file '{path}' does not exist", path);
        }

        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names them in errors.</summary>
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

        var dataStart = 8 + (int)headerLength;
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
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{source}': the safetensors header is not a JSON object");
            }

            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    continue;
                }

                result[prop.Name] = ParseEntry(prop, bytes, dataStart, source);
            }
        }

        return result;
    }

    private static SafetensorsEntry ParseEntry(JsonProperty prop, byte[] bytes, int dataStart, string source)
    {
        try
        {
            var v = prop.Value;
            var dtype = v.GetProperty("dtype").GetString() ?? string.Empty;
            var shape = v.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = v.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (!ElementSizes.TryGetValue(dtype, out var size))
            {
                throw new InvalidDataException($"unknown dtype '{dtype}'");
            }

            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > bytes.Length)
            {
                throw new InvalidDataException($"data offsets [{string.Join(",", offsets)}] fall outside the {bytes.Length - dataStart}-byte data section");
            }

            var expected = Shapes.Count(shape) * size;
            if (offsets[1] - offsets[0] != expected)
            {
                throw new InvalidDataException($"{offsets[1] - offsets[0]} bytes stored for shape {Shapes.Format(shape)} of {dtype} ({expected} expected)");
            }

            return new SafetensorsEntry(prop.Name, dtype, shape, bytes.AsMemory(dataStart + (int)offsets[0], (int)expected));
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"'{source}': tensor '{prop.Name}': {e.Message}");
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
