using System.Globalization;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Visualization;

/// <summary>
/// Draws what a token-reduction pass kept: a strip of panels — the input, then (life regression) each
/// patch's predicted life on the grid, then one panel per reducing layer with the patches that layer
/// dropped, or left idle, dimmed and the kept ones at full colour; a fused token is marked. Panels are
/// labelled "L{layer}: kept/in" (0-based block index). The pictures are rendered from the trace of the engine's own forward
/// pass, so they show exactly what scoring did.
/// </summary>
public sealed class TokenSelectionRenderer
{
    private static readonly (byte R, byte G, byte B) Background = (255, 255, 255);
    private static readonly (byte R, byte G, byte B) Ink = (20, 20, 20);
    // Dropped or idle patches are blended towards dark blue, visible on dark backgrounds too.
    private static readonly (byte R, byte G, byte B) Shade = (25, 35, 90);
    private static readonly (byte R, byte G, byte B) FusedMark = (255, 140, 0);

    /// <summary>Side of a panel in pixels (the model's input is scaled by a whole factor to at least this).</summary>
    public int MinimumPanelSize { get; init; } = 168;

    /// <summary>How far dimmed patches go towards black (0 none, 1 black).</summary>
    public double DimAmount { get; init; } = 0.75;

    /// <summary>Pixels between panels and around the strip.</summary>
    public int Gap { get; init; } = 8;

    /// <summary>The display scale of a model input of <paramref name="imageSize"/> pixels.</summary>
    public int Scale(int imageSize) => Math.Max(1, (MinimumPanelSize + imageSize - 1) / imageSize);

    /// <summary>
    /// Runs <paramref name="strategy"/> on <paramref name="image"/> (fitted to the model's size and channels,
    /// normalised as the config says) and renders its selection.
    /// </summary>
    public (PixelImage Strip, TokenReductionTrace Trace, Tensor Logits) Render(VisionTransformer model, TokenReductionStrategy strategy, PixelImage image)
    {
        var config = model.Config;
        var fitted = ImageResizer.Fit(image, config.InChannels, config.ImageSize);
        var input = ImageDataset.ForModel(new[] { fitted.ToPlanar() }, null, config).Images(new[] { 0 });
        var trace = new TokenReductionTrace();
        var training = model.IsTraining;
        model.Train(false);
        try
        {
            var logits = strategy.Forward(model, input, trace);
            return (Render(fitted, config, trace, 0), trace, logits);
        }
        finally
        {
            model.Train(training);
        }
    }

    /// <summary>The strip for image <paramref name="imageIndex"/> of a traced batch; <paramref name="input"/> is that image at the model's size.</summary>
    public PixelImage Render(PixelImage input, VisionTransformerConfig config, TokenReductionTrace trace, int imageIndex)
    {
        var scale = Scale(config.ImageSize);
        var panel = config.ImageSize * scale;
        var cell = config.PatchSize * scale;
        var grid = config.GridSize;
        var display = ImageResizer.Resize(input.ToColorChannels(3), panel, panel, ResizeMode.Fill);
        var panels = new List<(string Label, Action<Canvas, int, int> Draw)> { ("input", (c, x, y) => c.Draw(display, x, y)) };
        if (trace.PatchPriorities is { } lives)
        {
            var patches = config.NumPatches;
            var own = lives.AsSpan(imageIndex * patches, patches).ToArray();
            panels.Add(($"lives (L{trace.PriorityLayer})", (c, x, y) => DrawLives(c, x, y, display, own, grid, cell)));
        }

        foreach (var record in trace.Records)
        {
            var kept = record.KeptSources.AsSpan(imageIndex * record.KeptPerImage, record.KeptPerImage).ToArray();
            var patches = kept.Where(s => s >= 0).ToHashSet();
            var fused = kept.Any(s => s == TokenState.FusedSource);
            panels.Add(($"L{record.Layer}: {record.KeptPerImage}/{record.TokensIn - 1}", (c, x, y) => DrawKept(c, x, y, display, patches, fused, grid, cell)));
        }

        var textScale = TextScale(config.ImageSize);
        var (_, bottom) = PanelOrigin(0, config.ImageSize);
        var canvas = new Canvas(Gap + panels.Count * (panel + Gap), bottom + panel + Gap, Background);
        for (var i = 0; i < panels.Count; i++)
        {
            var (x, y) = PanelOrigin(i, config.ImageSize);
            var label = Fit(panels[i].Label, panel, textScale);
            canvas.Text(label, x + (panel - BitmapFont.Measure(label, textScale)) / 2, Gap, Ink, textScale);
            panels[i].Draw(canvas, x, y);
        }

        return canvas.ToImage();
    }

    /// <summary>
    /// The top-left pixel of panel <paramref name="index"/> (0 = input; then the lives panel when there is one;
    /// then one per reducing layer) in a strip for a model input of <paramref name="imageSize"/> pixels.
    /// </summary>
    public (int X, int Y) PanelOrigin(int index, int imageSize)
        => (Gap + index * (imageSize * Scale(imageSize) + Gap), Gap + BitmapFont.GlyphHeight * TextScale(imageSize) + 6);

    private int TextScale(int imageSize) => Math.Max(1, Scale(imageSize) / 3);

    /// <summary>The top-left pixel of patch <paramref name="patch"/>'s cell in a panel at (x, y).</summary>
    public static (int X, int Y) CellOrigin(int x, int y, int patch, int grid, int cell) => (x + patch % grid * cell, y + patch / grid * cell);

    private void DrawKept(Canvas canvas, int x, int y, PixelImage display, HashSet<int> kept, bool fused, int grid, int cell)
    {
        canvas.Draw(display, x, y);
        for (var p = 0; p < grid * grid; p++)
        {
            if (!kept.Contains(p))
            {
                var (cx, cy) = CellOrigin(x, y, p, grid, cell);
                canvas.Dim(cx, cy, cell, cell, DimAmount, Shade);
            }
        }

        if (fused)
        {
            // The fused token has no place on the grid: an orange tab with an F in the panel's corner.
            var size = Math.Max(9, cell / 2);
            canvas.Fill(x + grid * cell - size, y, size, size, FusedMark);
            canvas.Text("F", x + grid * cell - size + (size - BitmapFont.GlyphWidth) / 2, y + (size - BitmapFont.GlyphHeight) / 2, Ink);
        }
    }

    private static void DrawLives(Canvas canvas, int x, int y, PixelImage display, float[] lives, int grid, int cell)
    {
        canvas.Draw(display, x, y);
        var (low, high) = (lives.Min(), lives.Max());
        for (var p = 0; p < lives.Length; p++)
        {
            var (cx, cy) = CellOrigin(x, y, p, grid, cell);
            var shortLived = high > low ? 1 - (lives[p] - low) / (high - low) : 0;
            canvas.Dim(cx, cy, cell, cell, 0.35 + 0.5 * shortLived, Shade);
            canvas.Rectangle(cx, cy, cell, cell, (90, 90, 90));
            var text = lives[p].ToString(cell >= 5 * BitmapFont.Advance ? "0.0" : "0", CultureInfo.InvariantCulture);
            if (BitmapFont.Measure(text) <= cell - 2)
            {
                canvas.Text(text, cx + (cell - BitmapFont.Measure(text)) / 2, cy + (cell - BitmapFont.GlyphHeight) / 2, (255, 255, 255));
            }
        }
    }

    private static string Fit(string label, int width, int scale)
    {
        while (label.Length > 1 && BitmapFont.Measure(label, scale) > width)
        {
            label = label[..^1];
        }

        return label;
    }
}
