using System.Buffers.Binary;
using System.IO.Compression;

namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>
/// Reader of the IDX format of (Fashion-)MNIST: 2 zero bytes, a type byte (0x08 = unsigned byte), the
/// number of dimensions, each dimension as a big-endian 32-bit integer, then the data. A file ending
/// in <c>.gz</c> is decompressed on the fly.
/// </summary>
public static class IdxFile
{
    /// <summary>The dimensions and the unsigned-byte data of an IDX file.</summary>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte IDX file or is cut short; the message names it.</exception>
    public static (int[] Shape, byte[] Data) ReadBytes(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IDX file '{path}' does not exist", path);
        }

        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        var header = new byte[4];
        ReadExactly(stream, header, path, "header");
        if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] == 0)
        {
            throw new InvalidDataException($"'{path}' is not an unsigned-byte IDX file (magic {header[0]:x2}{header[1]:x2}{header[2]:x2}{header[3]:x2})");
        }

        var dims = new byte[4 * header[3]];
        ReadExactly(stream, dims, path, "dimensions");
        var shape = new int[header[3]];
        long count = 1;
        for (var i = 0; i < shape.Length; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(dims.AsSpan(4 * i));
            count *= shape[i];
        }

        if (count is < 0 or > int.MaxValue)
        {
            throw new InvalidDataException($"'{path}': dimensions {string.Join("x", shape)} are out of range");
        }

        var data = new byte[count];
        ReadExactly(stream, data, path, "data");
        return (shape, data);
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string path, string part)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0)
            {
                throw new InvalidDataException($"'{path}' ends inside its {part} ({read} of {buffer.Length} bytes)");
            }

            read += n;
        }
    }
}
