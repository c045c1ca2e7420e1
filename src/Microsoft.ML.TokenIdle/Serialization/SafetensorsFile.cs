using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>One tensor of a safetensors file: its stored type, shape and raw little-endian bytes.</summary>
public sealed record SafetensorsEntry(string Name, string DType, int[] Shape, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>The values as float32 (F32 as is; F16, BF16, F64 and integer types converted).</summary>
    /// <exception cref="InvalidDataException">The dtype cannot be converted.</exception>
    public Tensor ToTensor()
    {
        var count = ShapeUtil.Count(Shape);
        var values = new float[count];
        var b = Bytes.Span;
        switch (DType)
        {
            case "F32":
                for (var i = 0; i < count; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]);
                }

                break;
            case "F16":
                for (var i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(b[(2 * i)..]);
                }

                break;
            case "BF16":
                for (var i = 0; i < count; i++)
                {
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]) << 16);
                }

                break;
            case "F64":
                for (var i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]);
                }

                break;
            case "I64":
                for (var i = 0; i < count; i++)
                {
                    values[i] = BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..]);
                }

                break;
            default:
                throw new InvalidDataException($"tensor '{Name}' has dtype {DType}, which cannot be read as float32");
        }

        return Tensor.FromArray(values, Shape);
    }

    /// <summary>The values of an I64 tensor.</summary>
    /// <exception cref="InvalidDataException">The tensor is not I64.</exception>
    public long[] ToInt64()
    {
        if (DType != "I64")
        {
            throw new InvalidDataException($"tensor '{Name}' has dtype {DType}, expected I64");
        }

        var values = new long[ShapeUtil.Count(Shape)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt64LittleEndian(Bytes.Span[(8 * i)..]);
        }

        return values;
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
            var shape = v.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var offsets = v.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (!ElementSizes.TryGetValue(dtype, out var size))
            {
                throw new InvalidDataException($"unknown dtype '{dtype}'");
            }

            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > bytes.Length)
            {
                throw new InvalidDataException($"data offsets [{string.Join(",", offsets)}] fall outside the {bytes.Length - dataStart}-byte data section");
            }

            var expected = (long)ShapeUtil.Count(shape) * size;
            if (offsets[1] - offsets[0] != expected)
            {
                throw new InvalidDataException($"{offsets[1] - offsets[0]} bytes stored for shape {ShapeUtil.Format(shape)} of {dtype} ({expected} expected)");
            }

            return new SafetensorsEntry(prop.Name, dtype, shape, bytes.AsMemory(dataStart + (int)offsets[0], (int)expected));
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"'{source}': tensor '{prop.Name}': {e.Message}");
        }
    }

    /// <summary>Writes float32 tensors (in the given order) and optional metadata, atomically.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => AtomicFile.Write(path, stream => Write(stream, tensors, metadata));

    /// <summary>Writes float32 tensors (in the given order) and optional metadata to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object>();
        if (metadata is not null)
        {
            header["__metadata__"] = metadata;
        }

        long offset = 0;
        foreach (var (name, t) in list)
        {
            var bytes = (long)t.Length * 4;
            header[name] = new Dictionary<string, object> { ["dtype"] = "F32", ["shape"] = t.ShapeArray, ["data_offsets"] = new[] { offset, offset + bytes } };
            offset += bytes;
        }

        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }

        var buffer = new byte[4096];
        foreach (var (_, t) in list)
        {
            var data = t.Data;
            for (var i = 0; i < data.Length; i += 1024)
            {
                var n = Math.Min(1024, data.Length - i);
                for (var j = 0; j < n; j++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * j), data[i + j]);
                }

                stream.Write(buffer, 0, 4 * n);
            }
        }
    }
}
