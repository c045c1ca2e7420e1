using SkiaSharp;

namespace Microsoft.ML.TokenIdle.Visualization;

/// <summary>The typeface figures are labelled with: a common sans-serif family from the system's fonts.</summary>
internal static class Typefaces
{
    private static readonly Lazy<SKTypeface> Sans = new(() =>
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "sans-serif" }
            .Select(family => SKFontManager.Default.MatchFamily(family))
            .FirstOrDefault(typeface => typeface is not null) ?? SKTypeface.Default);

    /// <summary>An antialiased sans-serif font of <paramref name="size"/> pixels.</summary>
    public static SKFont Font(float size) => new(Sans.Value, size) { Edging = SKFontEdging.Antialias, Subpixel = true };

    /// <summary>The advance width of <paramref name="text"/> in <paramref name="font"/>, in pixels.</summary>
    public static float Measure(this SKFont font, string text)
    {
        Span<ushort> glyphs = stackalloc ushort[font.CountGlyphs(text)];
        font.GetGlyphs(text, glyphs);
        return font.MeasureText(glyphs, null);
    }
}
