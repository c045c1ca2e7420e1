namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// A decoded 8-bit image: <see cref="Channels"/> interleaved samples per pixel (1 grey, 2 grey + alpha,
/// 3 RGB, 4 RGBA), rows top to bottom, no padding.
/// </summary>
public sealed class PixelImage
{
    /// <summary>Wraps <paramref name="pixels"/> (height × width × channels bytes).</summary>
    /// <exception cref="ArgumentException">The sizes do not match or the channel count is not 1–4.</exception>
    public PixelImage(int width, int height, int channels, byte[] pixels)
    {
        if (width < 1 || height < 1 || channels is < 1 or > 4)
        {
            throw new ArgumentException($"an image needs a positive size and 1 to 4 channels, got {width}x{height}x{channels}");
        }

        if (pixels.LongLength != (long)width * height * channels)
        {
            throw new ArgumentException($"{pixels.LongLength} bytes do not make a {width}x{height} image of {channels} channels");
        }

        (Width, Height, Channels, Pixels) = (width, height, channels, pixels);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Samples per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.</summary>
    public int Channels { get; }

    /// <summary>The samples, row-major, interleaved.</summary>
    public byte[] Pixels { get; }

    /// <summary>
    /// The image with <paramref name="channels"/> colour channels, 1 (grey, ITU-R BT.601 luma) or 3 (RGB);
    /// alpha is dropped (the colour samples are kept as they are).
    /// </summary>
    public PixelImage ToColorChannels(int channels)
    {
        if (channels is not (1 or 3))
        {
            throw new ArgumentException($"colour channels must be 1 (grey) or 3 (RGB), got {channels}");
        }

        var grey = Channels <= 2;
        if ((channels == 1 && Channels == 1) || (channels == 3 && Channels == 3))
        {
            return this;
        }

        var count = Width * Height;
        var result = new byte[count * channels];
        for (var i = 0; i < count; i++)
        {
            var s = i * Channels;
            if (channels == 3)
            {
                if (grey)
                {
                    result[3 * i] = result[3 * i + 1] = result[3 * i + 2] = Pixels[s];
                }
                else
                {
                    Pixels.AsSpan(s, 3).CopyTo(result.AsSpan(3 * i, 3));
                }
            }
            else
            {
                result[i] = grey ? Pixels[s] : (byte)Math.Round(0.299 * Pixels[s] + 0.587 * Pixels[s + 1] + 0.114 * Pixels[s + 2]);
            }
        }

        return new PixelImage(Width, Height, channels, result);
    }

    /// <summary>The image mirrored left to right.</summary>
    public PixelImage Mirrored()
    {
        var mirrored = new byte[Pixels.Length];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                Pixels.AsSpan((y * Width + x) * Channels, Channels).CopyTo(mirrored.AsSpan((y * Width + Width - 1 - x) * Channels, Channels));
            }
        }

        return new PixelImage(Width, Height, Channels, mirrored);
    }

    /// <summary>An image from planar samples [channels, height, width] (the inverse of <see cref="ToPlanar"/>).</summary>
    public static PixelImage FromPlanar(ReadOnlySpan<byte> planar, int channels, int width, int height)
    {
        var plane = width * height;
        if (planar.Length != channels * plane)
        {
            throw new ArgumentException($"planar image: {planar.Length} bytes are not {channels}x{height}x{width}");
        }

        var pixels = new byte[planar.Length];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < channels; c++)
            {
                pixels[p * channels + c] = planar[c * plane + p];
            }
        }

        return new PixelImage(width, height, channels, pixels);
    }

    /// <summary>The samples in planar order [channels, height, width] (the layout a ViT takes).</summary>
    public byte[] ToPlanar()
    {
        var plane = Width * Height;
        var planar = new byte[Channels * plane];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < Channels; c++)
            {
                planar[c * plane + p] = Pixels[p * Channels + c];
            }
        }

        return planar;
    }
}
