using System.Buffers.Binary;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// The EXIF orientation tag (0x0112) of a JPEG and the rotation/flip that shows the image upright,
/// as cameras record it (1 = upright … 8 = rotated 90° counter-clockwise to view).
/// </summary>
public static class ExifOrientation
{
    /// <summary>The orientation (1–8) recorded in the JPEG's EXIF block; 1 when there is none or it is unreadable.</summary>
    public static int Read(ReadOnlySpan<byte> jpeg)
    {
        var position = 2;
        while (position + 4 <= jpeg.Length && jpeg[position] == 0xFF)
        {
            var marker = jpeg[position + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(position + 2)..]);
            if (marker == 0xDA || length < 2 || position + 2 + length > jpeg.Length)
            {
                break;
            }

            var segment = jpeg.Slice(position + 4, length - 2);
            if (marker == 0xE1 && segment.StartsWith("Exif\0\0"u8))
            {
                return FromTiff(segment[6..]);
            }

            position += 2 + length;
        }

        return 1;
    }

    /// <summary>The upright image for <paramref name="orientation"/> (1 returns the image itself).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The orientation is not 1–8.</exception>
    public static PixelImage Apply(PixelImage image, int orientation)
    {
        if (orientation is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation is 1 to 8");
        }

        if (orientation == 1)
        {
            return image;
        }

        var (w, h, c) = (image.Width, image.Height, image.Channels);
        var swaps = orientation >= 5;
        var (outW, outH) = swaps ? (h, w) : (w, h);
        var result = new byte[image.Pixels.Length];
        for (var oy = 0; oy < outH; oy++)
        {
            for (var ox = 0; ox < outW; ox++)
            {
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - ox, oy),
                    3 => (w - 1 - ox, h - 1 - oy),
                    4 => (ox, h - 1 - oy),
                    5 => (oy, ox),
                    6 => (oy, h - 1 - ox),
                    7 => (w - 1 - oy, h - 1 - ox),
                    _ => (w - 1 - oy, ox),
                };
                image.Pixels.AsSpan((sy * w + sx) * c, c).CopyTo(result.AsSpan((oy * outW + ox) * c, c));
            }
        }

        return new PixelImage(outW, outH, c, result);
    }

    private static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 1;
        }

        var little = tiff[0] == (byte)'I';
        ushort U16(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s);
        uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        var ifd = U32(tiff[4..]);
        if (ifd + 2 > tiff.Length)
        {
            return 1;
        }

        var entries = U16(tiff[(int)ifd..]);
        for (var i = 0; i < entries; i++)
        {
            var entry = (int)ifd + 2 + i * 12;
            if (entry + 12 > tiff.Length)
            {
                break;
            }

            if (U16(tiff[entry..]) == 0x0112)
            {
                var value = U16(tiff[(entry + 8)..]);
                return value is >= 1 and <= 8 ? value : 1;
            }
        }

        return 1;
    }
}
