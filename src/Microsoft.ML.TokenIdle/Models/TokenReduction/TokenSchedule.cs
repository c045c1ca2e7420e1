using System.Globalization;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// One keep ratio per layer (1 = the layer does not reduce). How a ratio turns into a token count is
/// the reduction's rule: dropping keeps ceil(ratio · current tokens), idling processes
/// floor(ratio · all patches).
/// </summary>
public sealed class TokenSchedule
{
    private readonly double[] _ratios;

    /// <summary>A schedule from explicit per-layer ratios.</summary>
    /// <exception cref="ArgumentException">A ratio is outside (0, 1] or the list is empty.</exception>
    public TokenSchedule(IReadOnlyList<double> ratios)
    {
        if (ratios.Count == 0)
        {
            throw new ArgumentException("a token schedule needs one ratio per layer, got none");
        }

        for (var i = 0; i < ratios.Count; i++)
        {
            if (!(ratios[i] > 0 && ratios[i] <= 1))
            {
                throw new ArgumentException($"keep ratio {ratios[i].ToString(CultureInfo.InvariantCulture)} at layer {i} is outside (0, 1]");
            }
        }

        _ratios = ratios.ToArray();
    }

    /// <summary>The ratio of every layer.</summary>
    public IReadOnlyList<double> Ratios => _ratios;

    /// <summary>Number of layers.</summary>
    public int Depth => _ratios.Length;

    /// <summary>Layers whose ratio is below 1.</summary>
    public IEnumerable<int> ReducingLayers => Enumerable.Range(0, Depth).Where(i => _ratios[i] < 1);

    /// <summary>Ratio <paramref name="ratios"/>[i] at layer <paramref name="layers"/>[i], 1 elsewhere.</summary>
    /// <exception cref="ArgumentException">A layer is outside the model or repeated, or the lists differ in length.</exception>
    public static TokenSchedule AtLayers(int depth, IReadOnlyList<int> layers, IReadOnlyList<double> ratios)
    {
        if (layers.Count != ratios.Count)
        {
            throw new ArgumentException($"{layers.Count} reduction layers but {ratios.Count} ratios");
        }

        var all = Enumerable.Repeat(1.0, depth).ToArray();
        var seen = new HashSet<int>();
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i] < 0 || layers[i] >= depth)
            {
                throw new ArgumentException($"reduction layer {layers[i]} is outside the model's layers 0..{depth - 1}");
            }

            if (!seen.Add(layers[i]))
            {
                throw new ArgumentException($"reduction layer {layers[i]} is listed twice");
            }

            all[layers[i]] = ratios[i];
        }

        return new TokenSchedule(all);
    }

    /// <summary>Parses "r0,r1,…" (invariant culture, one ratio per layer).</summary>
    /// <exception cref="FormatException">An entry is not a number.</exception>
    public static TokenSchedule Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var ratios = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out ratios[i]))
            {
                throw new FormatException($"schedule entry {i} '{parts[i]}' is not a number");
            }
        }

        return new TokenSchedule(ratios);
    }

    /// <summary>
    /// Positions given for 12 layers moved to a model of <paramref name="depth"/> layers
    /// (round(l · depth / 12), kept distinct and inside the model).
    /// </summary>
    public static int[] ScaleLayers(IReadOnlyList<int> layersOf12, int depth)
    {
        var scaled = new List<int>();
        foreach (var l in layersOf12)
        {
            var s = Math.Clamp((int)Math.Round(l * depth / 12.0, MidpointRounding.AwayFromZero), 0, depth - 1);
            if (!scaled.Contains(s))
            {
                scaled.Add(s);
            }
        }

        return scaled.ToArray();
    }

    /// <summary>
    /// The token counts of every block of a model of <paramref name="config"/>'s shape when
    /// <paramref name="reduction"/> follows this schedule in scoring.
    /// </summary>
    /// <exception cref="ArgumentException">The schedule has the wrong length or a layer would keep no token.</exception>
    public IReadOnlyList<LayerTokenCounts> Plan(ITokenReduction reduction, VisionTransformerConfig config)
    {
        CheckDepth(config.Depth);
        var plan = new LayerTokenCounts[Depth];
        var tokens = config.NumPatches + 1;
        for (var t = 0; t < Depth; t++)
        {
            var ratio = _ratios[t];
            if (ratio < 1 && reduction.KeptCount(ratio, tokens - 1) < 1)
            {
                throw new ArgumentException($"keep ratio {ratio.ToString(CultureInfo.InvariantCulture)} at layer {t} keeps no token of {tokens - 1} ({reduction.Name})");
            }

            plan[t] = reduction.Plan(ratio, tokens);
            tokens = plan[t].TokensOut;
        }

        return plan;
    }

    /// <exception cref="ArgumentException">The schedule is not for a model of <paramref name="depth"/> layers.</exception>
    public void CheckDepth(int depth)
    {
        if (Depth != depth)
        {
            throw new ArgumentException($"the schedule has {Depth} ratios but the model has {depth} layers (one ratio per layer, 1 = no reduction)");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join(",", _ratios.Select(r => r.ToString("0.####", CultureInfo.InvariantCulture)));
}
