using System.Globalization;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Visualization;

/// <summary>
/// Draws what a token-reduction pass kept: a strip of panels — the input, then (life regression) each
/// patch's predicted life on the grid, then one panel per reducing layer with the patches that layer
/// dropped, or left idle, dimmed and the kept ones at full colour; a fused token is marked. For token merging,
/// each merging layer's panel outlines the regions of patches that have merged into one token (the reference's
/// source tracking) and tints them, a single patch left clear. Panels are labelled "L{layer}: kept/in" (tokens
/// after/before the layer for merging; 0-based block index) in an antialiased sans-serif font. The pictures are
/// rendered from the trace of the engine's own forward pass, so they show exactly what scoring did.
/// </summary>
public sealed class TokenSelectionRenderer
{
    private static readonly SKColor Background = SKColors.White;
    private static readonly SKColor Ink = new(20, 20, 20);

    // Dropped or idle patches are blended towards dark blue, visible on dark backgrounds too.
    private static readonly SKColor Shade = new(25, 35, 90);
    private static readonly SKColor FusedMark = new(255, 140, 0);
    private static readonly SKColor CellBorder = new(90, 90, 90);

    /// <summary>Side of a panel in pixels (the model's input is scaled by a whole factor to at least this).</summary>
    public int MinimumPanelSize { get; init; } = 168;

    /// <summary>How far dimmed patches go towards the shade (0 none, 1 all the way).</summary>
    public double DimAmount { get; init; } = 0.75;

    /// <summary>Pixels between panels and around the strip.</summary>
    public int Gap { get; init; } = 8;

    /// <summary>Height of the panel labels' text in pixels.</summary>
    public float LabelSize { get; init; } = 14;

    /// <summary>The display scale of a model input of <paramref name="imageSize"/> pixels.</summary>
    public int Scale(int imageSize) => Math.Max(1, (MinimumPanelSize + imageSize - 1) / imageSize);

    /// <summary>
    /// Runs <paramref name="method"/> on <paramref name="image"/> (brought to the model's input by its
    /// <see cref="ImageInputFormat"/>) and renders its selection.
    /// </summary>
    public (PixelImage Strip, TokenReductionTrace Trace, float[] Logits) Render(VisionTransformer model, IReducedForward method, PixelImage image)
    {
        var config = model.Config;
        var fitted = config.InputFormat.Fit(image);
        var trace = new TokenReductionTrace();
        var training = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = ImageBatch.Of(new[] { fitted.ToPlanar() }, Array.Empty<float[]>(), null, config.InputFormat).ToTensor(model.Device);
            var logits = model.Forward(input, method, trace).cpu().data<float>().ToArray();
            return (Render(fitted, config, trace, 0), trace, logits);
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>The strip for image <paramref name="imageIndex"/> of a traced batch; <paramref name="input"/> is that image at the model's size.</summary>
    public PixelImage Render(PixelImage input, VisionTransformerConfig config, TokenReductionTrace trace, int imageIndex)
    {
        var scale = Scale(config.ImageSize);
        var panel = config.ImageSize * scale;
        var cell = config.PatchSize * scale;
        var grid = config.GridSize;
        using var display = SkiaConversion.ToBitmap(ImageResizer.Resize(input.ToColorChannels(3), panel, panel, ResizeMode.Fill));
        var panels = new List<(string Label, Action<SKCanvas, int, int> Draw)> { ("input", (c, x, y) => c.DrawBitmap(display, x, y)) };
        if (trace.PatchPriorities is { } lives)
        {
            var patches = config.NumPatches;
            var own = lives.AsSpan(imageIndex * patches, patches).ToArray();
            panels.Add(($"lives (L{trace.PriorityLayer})", (c, x, y) => DrawLives(c, x, y, display, own, grid, cell)));
        }

        foreach (var record in trace.Records)
        {
            if (record.Merges)
            {
                var owners = record.PatchTokens.AsSpan(imageIndex * config.NumPatches, config.NumPatches).ToArray();
                var sizes = record.MergedSizes(imageIndex, config.NumPatches);
                panels.Add(($"L{record.Layer}: {record.TokensOut - 1}/{record.TokensIn - 1}", (c, x, y) => DrawMerged(c, x, y, display, owners, sizes, grid, cell)));
                continue;
            }

            var kept = record.KeptSources.AsSpan(imageIndex * record.KeptPerImage, record.KeptPerImage).ToArray();
            var patches = kept.Where(s => s >= 0).ToHashSet();
            var fused = kept.Any(s => s == TokenState.FusedSource);
            panels.Add(($"L{record.Layer}: {record.KeptPerImage}/{record.TokensIn - 1}", (c, x, y) => DrawKept(c, x, y, display, patches, fused, grid, cell)));
        }

        var (_, top) = PanelOrigin(0, config.ImageSize);
        using var strip = new SKBitmap(new SKImageInfo(Gap + panels.Count * (panel + Gap), top + panel + Gap, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(strip))
        using (var font = Typefaces.Font(LabelSize))
        using (var ink = new SKPaint { Color = Ink, IsAntialias = true })
        {
            canvas.Clear(Background);
            for (var i = 0; i < panels.Count; i++)
            {
                var (x, y) = PanelOrigin(i, config.ImageSize);
                var label = Fit(panels[i].Label, panel, font);
                canvas.DrawText(label, x + (panel - font.Measure(label)) / 2, Gap + LabelSize, font, ink);
                panels[i].Draw(canvas, x, y);
            }
        }

        return SkiaConversion.ToPixelImage(strip);
    }

    /// <summary>
    /// The top-left pixel of panel <paramref name="index"/> (0 = input; then the lives panel when there is one;
    /// then one per reducing layer) in a strip for a model input of <paramref name="imageSize"/> pixels.
    /// </summary>
    public (int X, int Y) PanelOrigin(int index, int imageSize)
        => (Gap + index * (imageSize * Scale(imageSize) + Gap), Gap + (int)Math.Ceiling(LabelSize * 1.3) + 4);

    /// <summary>The top-left pixel of patch <paramref name="patch"/>'s cell in a panel at (x, y).</summary>
    public static (int X, int Y) CellOrigin(int x, int y, int patch, int grid, int cell) => (x + patch % grid * cell, y + patch / grid * cell);

    private void DrawKept(SKCanvas canvas, int x, int y, SKBitmap display, HashSet<int> kept, bool fused, int grid, int cell)
    {
        canvas.DrawBitmap(display, x, y);
        using var dim = new SKPaint { Color = Shade.WithAlpha((byte)Math.Round(DimAmount * 255)), IsAntialias = false };
        for (var p = 0; p < grid * grid; p++)
        {
            if (!kept.Contains(p))
            {
                var (cx, cy) = CellOrigin(x, y, p, grid, cell);
                canvas.DrawRect(cx, cy, cell, cell, dim);
            }
        }

        if (fused)
        {
            // The fused token has no place on the grid: an orange tab with an F in the panel's corner.
            var size = Math.Max(11, cell / 2);
            using var mark = new SKPaint { Color = FusedMark, IsAntialias = false };
            canvas.DrawRect(x + grid * cell - size, y, size, size, mark);
            using var font = Typefaces.Font(size * 0.75f);
            using var ink = new SKPaint { Color = Ink, IsAntialias = true };
            canvas.DrawText("F", x + grid * cell - size + (size - font.Measure("F")) / 2, y + size * 0.78f, font, ink);
        }
    }

    /// <summary>Regions of patches held by one token: tinted (a colour per token) and outlined; a patch on its own stays clear.</summary>
    private void DrawMerged(SKCanvas canvas, int x, int y, SKBitmap display, int[] owners, int[] sizes, int grid, int cell)
    {
        canvas.DrawBitmap(display, x, y);
        for (var p = 0; p < owners.Length; p++)
        {
            if (sizes[p] > 1)
            {
                // Golden-angle hues keep neighbouring token numbers apart.
                using var tint = new SKPaint { Color = SKColor.FromHsv(owners[p] * 137.508f % 360, 80, 95).WithAlpha((byte)Math.Round(DimAmount * 160)), IsAntialias = false };
                var (cx, cy) = CellOrigin(x, y, p, grid, cell);
                canvas.DrawRect(cx, cy, cell, cell, tint);
            }
        }

        using var line = new SKPaint { Color = Ink, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1, cell / 8f), IsAntialias = false };
        for (var p = 0; p < owners.Length; p++)
        {
            var (cx, cy) = CellOrigin(x, y, p, grid, cell);
            if (p % grid + 1 < grid && owners[p + 1] != owners[p])
            {
                canvas.DrawLine(cx + cell, cy, cx + cell, cy + cell, line);
            }

            if (p + grid < owners.Length && owners[p + grid] != owners[p])
            {
                canvas.DrawLine(cx, cy + cell, cx + cell, cy + cell, line);
            }
        }
    }

    private static void DrawLives(SKCanvas canvas, int x, int y, SKBitmap display, float[] lives, int grid, int cell)
    {
        canvas.DrawBitmap(display, x, y);
        var (low, high) = (lives.Min(), lives.Max());
        using var border = new SKPaint { Color = CellBorder, Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = false };
        using var font = Typefaces.Font(Math.Clamp(cell * 0.45f, 7, 13));
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        for (var p = 0; p < lives.Length; p++)
        {
            var (cx, cy) = CellOrigin(x, y, p, grid, cell);
            var shortLived = high > low ? 1 - (lives[p] - low) / (high - low) : 0;
            using var dim = new SKPaint { Color = Shade.WithAlpha((byte)Math.Round((0.35 + 0.5 * shortLived) * 255)), IsAntialias = false };
            canvas.DrawRect(cx, cy, cell, cell, dim);
            canvas.DrawRect(cx + 0.5f, cy + 0.5f, cell - 1, cell - 1, border);
            var text = lives[p].ToString(cell >= 28 ? "0.0" : "0", CultureInfo.InvariantCulture);
            var width = font.Measure(text);
            if (width <= cell - 2)
            {
                canvas.DrawText(text, cx + (cell - width) / 2, cy + (cell + font.Size * 0.7f) / 2, font, white);
            }
        }
    }

    private static string Fit(string label, int width, SKFont font)
    {
        while (label.Length > 1 && font.Measure(label) > width)
        {
            label = label[..^1];
        }

        return label;
    }
}
