using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Visualization;

/// <summary>An RGB drawing surface for figures: rectangles, lines, markers, images and bitmap-font text.</summary>
internal sealed class Canvas
{
    private readonly byte[] _pixels;

    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        (Width, Height) = (width, height);
        _pixels = new byte[width * height * 3];
        Fill(0, 0, width, height, background);
    }

    public int Width { get; }

    public int Height { get; }

    public PixelImage ToImage() => new(Width, Height, 3, (byte[])_pixels.Clone());

    public (byte R, byte G, byte B) Get(int x, int y) => (_pixels[(y * Width + x) * 3], _pixels[(y * Width + x) * 3 + 1], _pixels[(y * Width + x) * 3 + 2]);

    public void Set(int x, int y, (byte R, byte G, byte B) colour)
    {
        if (x < 0 || y < 0 || x >= Width || y >= Height)
        {
            return;
        }

        var i = (y * Width + x) * 3;
        (_pixels[i], _pixels[i + 1], _pixels[i + 2]) = colour;
    }

    public void Fill(int x, int y, int w, int h, (byte R, byte G, byte B) colour)
    {
        for (var yy = Math.Max(0, y); yy < Math.Min(Height, y + h); yy++)
        {
            for (var xx = Math.Max(0, x); xx < Math.Min(Width, x + w); xx++)
            {
                Set(xx, yy, colour);
            }
        }
    }

    /// <summary>Copies an RGB (or grey, replicated) image with its top-left corner at (x, y).</summary>
    public void Draw(PixelImage image, int x, int y)
    {
        var rgb = image.ToColorChannels(3);
        for (var yy = 0; yy < rgb.Height; yy++)
        {
            for (var xx = 0; xx < rgb.Width; xx++)
            {
                var i = (yy * rgb.Width + xx) * 3;
                Set(x + xx, y + yy, (rgb.Pixels[i], rgb.Pixels[i + 1], rgb.Pixels[i + 2]));
            }
        }
    }

    /// <summary>Scales the rectangle's colours towards <paramref name="tint"/>: value·(1 − amount) + tint·amount.</summary>
    public void Dim(int x, int y, int w, int h, double amount, (byte R, byte G, byte B) tint)
    {
        for (var yy = Math.Max(0, y); yy < Math.Min(Height, y + h); yy++)
        {
            for (var xx = Math.Max(0, x); xx < Math.Min(Width, x + w); xx++)
            {
                var (r, g, b) = Get(xx, yy);
                Set(xx, yy, (Mix(r, tint.R, amount), Mix(g, tint.G, amount), Mix(b, tint.B, amount)));
            }
        }
    }

    public void Rectangle(int x, int y, int w, int h, (byte R, byte G, byte B) colour)
    {
        Fill(x, y, w, 1, colour);
        Fill(x, y + h - 1, w, 1, colour);
        Fill(x, y, 1, h, colour);
        Fill(x + w - 1, y, 1, h, colour);
    }

    /// <summary>A line of the given thickness (Bresenham steps with a square brush).</summary>
    public void Line(int x0, int y0, int x1, int y1, (byte R, byte G, byte B) colour, int thickness = 1)
    {
        var (dx, dy) = (Math.Abs(x1 - x0), -Math.Abs(y1 - y0));
        var (sx, sy) = (x0 < x1 ? 1 : -1, y0 < y1 ? 1 : -1);
        var error = dx + dy;
        while (true)
        {
            Fill(x0 - thickness / 2, y0 - thickness / 2, thickness, thickness, colour);
            if (x0 == x1 && y0 == y1)
            {
                break;
            }

            var e2 = 2 * error;
            if (e2 >= dy)
            {
                error += dy;
                x0 += sx;
            }

            if (e2 <= dx)
            {
                error += dx;
                y0 += sy;
            }
        }
    }

    /// <summary>Text with its top-left corner at (x, y), each font pixel drawn as a <paramref name="scale"/>² square.</summary>
    public void Text(string text, int x, int y, (byte R, byte G, byte B) colour, int scale = 1)
    {
        for (var i = 0; i < text.Length; i++)
        {
            for (var gy = 0; gy < BitmapFont.GlyphHeight; gy++)
            {
                for (var gx = 0; gx < BitmapFont.GlyphWidth; gx++)
                {
                    if (BitmapFont.Ink(text[i], gx, gy))
                    {
                        Fill(x + (i * BitmapFont.Advance + gx) * scale, y + gy * scale, scale, scale, colour);
                    }
                }
            }
        }
    }

    private static byte Mix(byte value, byte tint, double amount) => (byte)Math.Round(value * (1 - amount) + tint * amount);
}
