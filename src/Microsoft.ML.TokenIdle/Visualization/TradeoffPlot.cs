using System.Globalization;
using System.Text;
using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Visualization;

/// <summary>One line of a trade-off plot.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">(x, y) in drawing order.</param>
/// <param name="Colour">Line and marker colour.</param>
/// <param name="Dashed">Drawn dashed (e.g. the same method without finetuning).</param>
public sealed record PlotSeries(string Name, IReadOnlyList<(double X, double Y)> Points, (byte R, byte G, byte B) Colour, bool Dashed = false);

/// <summary>
/// Accuracy-versus-cost line plots, like the papers' trade-off figures, as PNG (drawn on our canvas
/// with the bitmap font) and as SVG (same layout, text as SVG text): axes with ticks and labels, a
/// line with markers per series, a legend.
/// </summary>
public static class TradeoffPlot
{
    private const int Width = 720;
    private const int Height = 480;
    private const int Left = 70;
    private const int Right = 200;
    private const int Top = 40;
    private const int Bottom = 56;

    /// <summary>The plot as a PNG-ready image.</summary>
    public static PixelImage RenderPng(string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series)
    {
        var layout = new Layout(series);
        var canvas = new Canvas(Width, Height, (255, 255, 255));
        canvas.Text(title, (Width - BitmapFont.Measure(title, 2)) / 2, 10, (0, 0, 0), 2);
        foreach (var (value, text) in layout.XTicks)
        {
            var x = layout.X(value);
            canvas.Line(x, Top, x, Height - Bottom, (225, 225, 225));
            canvas.Text(text, x - BitmapFont.Measure(text) / 2, Height - Bottom + 8, (0, 0, 0));
        }

        foreach (var (value, text) in layout.YTicks)
        {
            var y = layout.Y(value);
            canvas.Line(Left, y, Width - Right, y, (225, 225, 225));
            canvas.Text(text, Left - 6 - BitmapFont.Measure(text), y - 3, (0, 0, 0));
        }

        canvas.Rectangle(Left, Top, Width - Left - Right, Height - Top - Bottom, (0, 0, 0));
        canvas.Text(xLabel, Left + (Width - Left - Right - BitmapFont.Measure(xLabel)) / 2, Height - 20, (0, 0, 0));
        for (var i = 0; i < yLabel.Length; i++)
        {
            canvas.Text(yLabel[i].ToString(), 8, (Height - yLabel.Length * 9) / 2 + i * 9, (0, 0, 0));
        }

        for (var s = 0; s < series.Count; s++)
        {
            var line = series[s];
            for (var i = 1; i < line.Points.Count; i++)
            {
                var (x0, y0, x1, y1) = (layout.X(line.Points[i - 1].X), layout.Y(line.Points[i - 1].Y), layout.X(line.Points[i].X), layout.Y(line.Points[i].Y));
                if (line.Dashed)
                {
                    const int dashes = 8;
                    for (var d = 0; d < dashes; d += 2)
                    {
                        canvas.Line(x0 + (x1 - x0) * d / dashes, y0 + (y1 - y0) * d / dashes, x0 + (x1 - x0) * (d + 1) / dashes, y0 + (y1 - y0) * (d + 1) / dashes, line.Colour, 2);
                    }
                }
                else
                {
                    canvas.Line(x0, y0, x1, y1, line.Colour, 2);
                }
            }

            foreach (var (px, py) in line.Points)
            {
                canvas.Fill(layout.X(px) - 3, layout.Y(py) - 3, 7, 7, line.Colour);
            }

            var ly = Top + 10 + s * 18;
            canvas.Fill(Width - Right + 14, ly, line.Dashed ? 6 : 16, 3, line.Colour);
            canvas.Fill(Width - Right + 24, ly, 6, 3, line.Colour);
            canvas.Text(line.Name, Width - Right + 36, ly - 2, (0, 0, 0));
        }

        return canvas.ToImage();
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
