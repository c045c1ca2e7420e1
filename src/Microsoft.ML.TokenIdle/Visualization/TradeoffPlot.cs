using System.Globalization;
using System.Text;
using Microsoft.ML.TokenIdle.Imaging;
using SkiaSharp;

namespace Microsoft.ML.TokenIdle.Visualization;

/// <summary>One line of a trade-off plot.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">(x, y) in drawing order.</param>
/// <param name="Colour">Line and marker colour.</param>
/// <param name="Dashed">Drawn dashed (e.g. the same method without finetuning).</param>
public sealed record PlotSeries(string Name, IReadOnlyList<(double X, double Y)> Points, (byte R, byte G, byte B) Colour, bool Dashed = false);

/// <summary>
/// Accuracy-versus-cost line plots, like the papers' trade-off figures, as an image (drawn with SkiaSharp)
/// and as SVG (same layout): axes with ticks and labels, a line with markers per series, a legend.
/// </summary>
public static class TradeoffPlot
{
    private const int Width = 720;
    private const int Height = 480;
    private const int Left = 70;
    private const int Right = 200;
    private const int Top = 40;
    private const int Bottom = 56;

    /// <summary>The plot as an image (write it with <see cref="PngEncoder"/>): antialiased lines and text.</summary>
    public static PixelImage RenderPng(string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series)
    {
        var layout = new Layout(series);
        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        using (var text = Typefaces.Font(12))
        using (var heading = Typefaces.Font(16))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        using (var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1, IsAntialias = false })
        using (var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = false })
        {
            canvas.Clear(SKColors.White);
            canvas.DrawText(title, (Width - heading.Measure(title)) / 2, 26, heading, ink);
            foreach (var (value, label) in layout.XTicks)
            {
                var x = layout.X(value);
                canvas.DrawLine(x + 0.5f, Top, x + 0.5f, Height - Bottom, grid);
                canvas.DrawText(label, x - text.Measure(label) / 2, Height - Bottom + 18, text, ink);
            }

            foreach (var (value, label) in layout.YTicks)
            {
                var y = layout.Y(value);
                canvas.DrawLine(Left, y + 0.5f, Width - Right, y + 0.5f, grid);
                canvas.DrawText(label, Left - 6 - text.Measure(label), y + 4, text, ink);
            }

            canvas.DrawRect(Left + 0.5f, Top + 0.5f, Width - Left - Right - 1, Height - Top - Bottom - 1, frame);
            canvas.DrawText(xLabel, Left + (Width - Left - Right - text.Measure(xLabel)) / 2, Height - 14, text, ink);
            canvas.Save();
            canvas.RotateDegrees(-90, 18, Height / 2f);
            canvas.DrawText(yLabel, 18 - text.Measure(yLabel) / 2, Height / 2f, text, ink);
            canvas.Restore();

            for (var s = 0; s < series.Count; s++)
            {
                var line = series[s];
                var colour = new SKColor(line.Colour.R, line.Colour.G, line.Colour.B);
                using var stroke = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true, PathEffect = line.Dashed ? SKPathEffect.CreateDash(new[] { 6f, 6f }, 0) : null };
                using var fill = new SKPaint { Color = colour, IsAntialias = false };
                using var path = new SKPath();
                path.MoveTo(layout.X(line.Points[0].X), layout.Y(line.Points[0].Y));
                foreach (var (px, py) in line.Points.Skip(1))
                {
                    path.LineTo(layout.X(px), layout.Y(py));
                }

                canvas.DrawPath(path, stroke);
                foreach (var (px, py) in line.Points)
                {
                    canvas.DrawRect(layout.X(px) - 3, layout.Y(py) - 3, 7, 7, fill);
                }

                var ly = Top + 10 + s * 18;
                canvas.DrawRect(Width - Right + 14, ly, line.Dashed ? 6 : 16, 3, fill);
                canvas.DrawRect(Width - Right + 24, ly, 6, 3, fill);
                canvas.DrawText(line.Name, Width - Right + 36, ly + 5, text, ink);
            }
        }

        return SkiaConversion.ToPixelImage(bitmap);
    }

    /// <summary>The same plot as SVG text.</summary>
    public static string RenderSvg(string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series)
    {
        var layout = new Layout(series);
        string Colour((byte R, byte G, byte B) c) => $"#{c.R:X2}{c.G:X2}{c.B:X2}";
        string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? string.Empty;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">{Escape(title)}</text>");
        foreach (var (value, text) in layout.XTicks)
        {
            var x = layout.X(value);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{Top}\" x2=\"{x}\" y2=\"{Height - Bottom}\" stroke=\"#e1e1e1\"/><text x=\"{x}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{text}</text>");
        }

        foreach (var (value, text) in layout.YTicks)
        {
            var y = layout.Y(value);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\" stroke=\"#e1e1e1\"/><text x=\"{Left - 6}\" y=\"{y + 4}\" text-anchor=\"end\">{text}</text>");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"black\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Left + (Width - Left - Right) / 2}\" y=\"{Height - 14}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text transform=\"translate(18 {Height / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>");
        for (var s = 0; s < series.Count; s++)
        {
            var line = series[s];
            var points = string.Join(" ", line.Points.Select(p => FormattableString.Invariant($"{layout.X(p.X)},{layout.Y(p.Y)}")));
            svg.AppendLine(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{Colour(line.Colour)}\" stroke-width=\"2\"{(line.Dashed ? " stroke-dasharray=\"6 6\"" : string.Empty)}/>");
            foreach (var (px, py) in line.Points)
            {
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{layout.X(px) - 3}\" y=\"{layout.Y(py) - 3}\" width=\"7\" height=\"7\" fill=\"{Colour(line.Colour)}\"/>");
            }

            var ly = Top + 10 + s * 18;
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{Width - Right + 14}\" y=\"{ly}\" width=\"16\" height=\"3\" fill=\"{Colour(line.Colour)}\"/><text x=\"{Width - Right + 36}\" y=\"{ly + 5}\">{Escape(line.Name)}</text>");
        }

        return svg.AppendLine("</svg>").ToString();
    }

    /// <summary>Axis ranges padded to round ticks, shared by both renderers.</summary>
    private sealed class Layout
    {
        private readonly (double Min, double Max) _x;
        private readonly (double Min, double Max) _y;

        public Layout(IReadOnlyList<PlotSeries> series)
        {
            var points = series.SelectMany(s => s.Points).ToList();
            if (points.Count == 0)
            {
                throw new ArgumentException("a plot needs at least one point");
            }

            (_x, XTicks) = Axis(points.Min(p => p.X), points.Max(p => p.X));
            (_y, YTicks) = Axis(points.Min(p => p.Y), points.Max(p => p.Y));
        }

        public IReadOnlyList<(double Value, string Text)> XTicks { get; }

        public IReadOnlyList<(double Value, string Text)> YTicks { get; }

        public int X(double value) => Left + (int)Math.Round((value - _x.Min) / (_x.Max - _x.Min) * (Width - Left - Right));

        public int Y(double value) => Height - Bottom - (int)Math.Round((value - _y.Min) / (_y.Max - _y.Min) * (Height - Top - Bottom));

        private static ((double, double) Range, IReadOnlyList<(double, string)> Ticks) Axis(double min, double max)
        {
            if (max - min < 1e-12)
            {
                (min, max) = (min - 0.5, max + 0.5);
            }

            var raw = (max - min) / 5;
            var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            var step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
            var (low, high) = (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step);
            var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9) + (step / magnitude == 2.5 ? 1 : 0));
            var ticks = new List<(double, string)>();
            for (var v = low; v <= high + step / 2; v += step)
            {
                ticks.Add((v, v.ToString("F" + decimals, CultureInfo.InvariantCulture)));
            }

            return ((low, high), ticks);
        }
    }
}
