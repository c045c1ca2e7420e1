using System.Buffers.Binary;
using System.IO.Compression;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// PNG in managed code (chunks, CRC-32, zlib through <see cref="ZLibStream"/>, the five row filters,
/// Adam7): decodes every colour type and bit depth to 8-bit samples and encodes 8-bit images.
/// 16-bit samples keep their high byte; a palette with transparency decodes to RGBA; the colour-key
/// transparency of grey and RGB images is ignored.
/// </summary>
public static class PngCodec
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    // Adam7 passes: first column, first row, column step, row step.
    private static readonly (int X, int Y, int Dx, int Dy)[] Adam7 = { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) };

    /// <summary>Whether <paramref name="data"/> starts with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <summary>Decodes a whole PNG file held in memory.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid PNG; the message says what is wrong.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> data)
    {
        if (!IsPng(data))
        {
            throw new InvalidDataException("not a PNG file (bad signature)");
        }

        var (width, height, depth, colorType, interlaced) = (0, 0, 0, -1, false);
        byte[]? palette = null;
        byte[]? paletteAlpha = null;
        using var compressed = new MemoryStream();
        var position = Signature.Length;
        var ended = false;
        while (!ended)
        {
            if (position + 12 > data.Length)
            {
                throw new InvalidDataException($"PNG ends inside a chunk header at byte {position} (truncated file)");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            var type = data.Slice(position + 4, 4);
            var name = System.Text.Encoding.ASCII.GetString(type);
            if (length > int.MaxValue || position + 12 + (long)length > data.Length)
            {
                throw new InvalidDataException($"PNG chunk '{name}' at byte {position} runs past the end of the file (truncated file)");
            }

            var body = data.Slice(position + 8, (int)length);
            if (Crc32.Compute(type, body) != BinaryPrimitives.ReadUInt32BigEndian(data[(position + 8 + (int)length)..]))
            {
                throw new InvalidDataException($"PNG chunk '{name}' at byte {position} has a bad CRC (corrupt file)");
            }

            switch (name)
            {
                case "IHDR":
                    if (body.Length != 13)
                    {
                        throw new InvalidDataException($"PNG header has {body.Length} bytes, not 13");
                    }

                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    (depth, colorType) = (body[8], body[9]);
                    if (body[10] != 0 || body[11] != 0 || body[12] > 1)
                    {
                        throw new InvalidDataException($"PNG uses compression {body[10]}, filter method {body[11]} or interlace {body[12]}, which the standard does not define");
                    }

                    interlaced = body[12] == 1;
                    break;
                case "PLTE":
                    palette = body.ToArray();
                    break;
                case "tRNS" when colorType == 3:
                    paletteAlpha = body.ToArray();
                    break;
                case "IDAT":
                    compressed.Write(body);
                    break;
                case "IEND":
                    ended = true;
                    break;
            }

            position += 12 + (int)length;
        }

        var samples = colorType switch
        {
            0 => 1,
            2 => 3,
            3 => 1,
            4 => 2,
            6 => 4,
            _ => throw new InvalidDataException($"PNG colour type {colorType} is not defined (or the IHDR chunk is missing)"),
        };
        var allowed = colorType switch { 0 => new[] { 1, 2, 4, 8, 16 }, 3 => new[] { 1, 2, 4, 8 }, _ => new[] { 8, 16 } };
        if (!allowed.Contains(depth) || width <= 0 || height <= 0 || (long)width * height > 1L << 28)
        {
            throw new InvalidDataException($"PNG of {width}x{height}, colour type {colorType}, bit depth {depth} is invalid or too large");
        }

        if (colorType == 3 && (palette is null || palette.Length % 3 != 0))
        {
            throw new InvalidDataException("PNG with a palette has no valid PLTE chunk");
        }

        compressed.Position = 0;
        byte[] raw;
        try
        {
            using var inflater = new ZLibStream(compressed, CompressionMode.Decompress);
            using var inflated = new MemoryStream();
            inflater.CopyTo(inflated);
            raw = inflated.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"PNG image data does not inflate: {e.Message}", e);
        }

        var outChannels = colorType == 3 ? (paletteAlpha is null ? 3 : 4) : samples;
        var pixels = new byte[(long)width * height * outChannels];
        var bitsPerPixel = samples * depth;
        var filterUnit = Math.Max(1, bitsPerPixel / 8);
        var offset = 0;
        foreach (var (x0, y0, dx, dy) in interlaced ? Adam7 : new[] { (0, 0, 1, 1) })
        {
            var passWidth = (width - x0 + dx - 1) / dx;
            var passHeight = (height - y0 + dy - 1) / dy;
            if (passWidth <= 0 || passHeight <= 0)
            {
                continue;
            }

            var stride = (int)(((long)passWidth * bitsPerPixel + 7) / 8);
            var previous = new byte[stride];
            var row = new byte[stride];
            for (var y = 0; y < passHeight; y++)
            {
                if (offset + 1 + stride > raw.Length)
                {
                    throw new InvalidDataException($"PNG image data ends at row {y0 + y * dy} of {height} (truncated file)");
                }

                raw.AsSpan(offset + 1, stride).CopyTo(row);
                Unfilter(raw[offset], row, previous, filterUnit);
                offset += 1 + stride;
                for (var x = 0; x < passWidth; x++)
                {
                    var target = ((long)(y0 + y * dy) * width + x0 + x * dx) * outChannels;
                    WritePixel(row, x, samples, depth, colorType, palette, paletteAlpha, pixels.AsSpan((int)target, outChannels));
                }

                (previous, row) = (row, previous);
            }
        }

        return new PixelImage(width, height, outChannels, pixels);
    }

    /// <summary>Encodes an 8-bit image (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) with adaptive row filters.</summary>
    public static void Encode(PixelImage image, Stream output)
    {
        var colorType = image.Channels switch { 1 => 0, 2 => 4, 3 => 2, _ => 6 };
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), image.Height);
        (header[8], header[9]) = (8, (byte)colorType);
        WriteChunk(output, "IHDR", header);
        var stride = image.Width * image.Channels;
        using var compressed = new MemoryStream();
        using (var deflater = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var previous = new byte[stride];
            var candidate = new byte[stride + 1];
            var best = new byte[stride + 1];
            for (var y = 0; y < image.Height; y++)
            {
                var row = image.Pixels.AsSpan(y * stride, stride);
                var bestCost = long.MaxValue;
                for (var filter = 0; filter < 5; filter++)
                {
                    candidate[0] = (byte)filter;
                    var cost = Filter(filter, row, previous, image.Channels, candidate.AsSpan(1));
                    if (cost < bestCost)
                    {
                        (bestCost, best, candidate) = (cost, candidate, best);
                    }
                }

                deflater.Write(best);
                row.CopyTo(previous);
            }
        }

        WriteChunk(output, "IDAT", compressed.ToArray());
        WriteChunk(output, "IEND", Array.Empty<byte>());
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(PixelImage image, string path) => Serialization.AtomicFile.Write(path, stream => Encode(image, stream));

    private static void WritePixel(byte[] row, int x, int samples, int depth, int colorType, byte[]? palette, byte[]? paletteAlpha, Span<byte> target)
    {
        if (depth == 8)
        {
            if (colorType == 3)
            {
                WritePaletteEntry(row[x], palette!, paletteAlpha, target);
            }
            else
            {
                row.AsSpan(x * samples, samples).CopyTo(target);
            }
        }
        else if (depth == 16)
        {
            for (var s = 0; s < samples; s++)
            {
                target[s] = row[(x * samples + s) * 2];
            }
        }
        else
        {
            var perByte = 8 / depth;
            var value = (row[x / perByte] >> (8 - depth * (x % perByte + 1))) & ((1 << depth) - 1);
            if (colorType == 3)
            {
                WritePaletteEntry(value, palette!, paletteAlpha, target);
            }
            else
            {
                target[0] = (byte)(value * 255 / ((1 << depth) - 1));
            }
        }
    }

    private static void WritePaletteEntry(int index, byte[] palette, byte[]? alpha, Span<byte> target)
    {
        if (index * 3 + 2 >= palette.Length)
        {
            throw new InvalidDataException($"PNG pixel uses palette entry {index}, the palette has {palette.Length / 3}");
        }

        palette.AsSpan(index * 3, 3).CopyTo(target);
        if (alpha is not null)
        {
            target[3] = index < alpha.Length ? alpha[index] : (byte)255;
        }
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> previous, int unit)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1:
                for (var i = unit; i < row.Length; i++)
                {
                    row[i] += row[i - unit];
                }

                break;
            case 2:
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] += previous[i];
                }

                break;
            case 3:
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] += (byte)(((i >= unit ? row[i - unit] : 0) + previous[i]) >> 1);
                }

                break;
            case 4:
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] += Paeth(i >= unit ? row[i - unit] : (byte)0, previous[i], i >= unit ? previous[i - unit] : (byte)0);
                }

                break;
            default:
                throw new InvalidDataException($"PNG row uses filter type {filter}; only 0–4 exist (corrupt file)");
        }
    }

    // Filters a row with one filter type and returns the sum of absolute signed residuals (the usual choice heuristic).
    private static long Filter(int filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, int unit, Span<byte> output)
    {
        var cost = 0L;
        for (var i = 0; i < row.Length; i++)
        {
            var left = i >= unit ? row[i - unit] : (byte)0;
            var upLeft = i >= unit ? previous[i - unit] : (byte)0;
            var predictor = filter switch
            {
                0 => 0,
                1 => left,
                2 => previous[i],
                3 => (left + previous[i]) >> 1,
                _ => Paeth(left, previous[i], upLeft),
            };
            var residual = (byte)(row[i] - predictor);
            output[i] = residual;
            cost += Math.Abs((int)(sbyte)residual);
        }

        return cost;
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        var p = a + b - c;
        var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream output, string name, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        var type = System.Text.Encoding.ASCII.GetBytes(name);
        output.Write(type);
        output.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(type, body));
        output.Write(word);
    }
}
