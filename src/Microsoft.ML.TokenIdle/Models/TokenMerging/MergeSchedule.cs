using System.Globalization;

namespace Microsoft.ML.TokenIdle.Models.TokenMerging;

/// <summary>
/// How many token pairs each block of a ToMe forward merges: a constant r, ToMe's (r, inflection) schedule, or one r
/// per layer. A layer merges at most (N − 1) // 2 pairs of its N tokens (the class token never merges).
/// </summary>
public sealed class MergeSchedule
{
    private MergeSchedule(IReadOnlyList<int> perLayer) => PerLayer = perLayer;

    /// <summary>r of each layer, before the cap by the tokens a layer has.</summary>
    public IReadOnlyList<int> PerLayer { get; }

    /// <summary>The same <paramref name="r"/> in each of <paramref name="depth"/> layers.</summary>
    /// <exception cref="ArgumentException">r is negative.</exception>
    public static MergeSchedule Constant(int r, int depth) => WithInflection(r, 0, depth);

    /// <summary>
    /// ToMe's schedule: layer i merges <c>int(min + (max − min)/(depth − 1) · i)</c> with <c>min = int(r·(1 − inflection))</c>
    /// and <c>max = 2r − min</c>; inflection 0 is constant r, −1 the paper's decreasing schedule (2r down to 0).
    /// </summary>
    /// <exception cref="ArgumentException">r is negative or the inflection outside [−1, 1].</exception>
    public static MergeSchedule WithInflection(int r, double inflection, int depth)
    {
        if (r < 0)
        {
            throw new ArgumentException($"r (tokens merged per layer) must be at least 0, got {r}");
        }

        if (!(inflection >= -1 && inflection <= 1))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the inflection must be in [-1, 1], got {inflection}"));
        }

        var min = (int)(r * (1 - inflection));
        var max = 2 * r - min;
        var step = depth > 1 ? (double)(max - min) / (depth - 1) : 0;
        return new MergeSchedule(Enumerable.Range(0, depth).Select(i => (int)(min + step * i)).ToArray());
    }

    /// <summary>One r per layer.</summary>
    /// <exception cref="ArgumentException">An r is negative, or the list does not have <paramref name="depth"/> entries.</exception>
    public static MergeSchedule Explicit(IReadOnlyList<int> perLayer, int depth)
    {
        if (perLayer.Count != depth)
        {
            throw new ArgumentException($"the merge schedule has {perLayer.Count} entries for a model of {depth} layers");
        }

        if (perLayer.FirstOrDefault(r => r < 0, 0) is var negative and < 0)
        {
            throw new ArgumentException($"r (tokens merged per layer) must be at least 0, got {negative}");
        }

        return new MergeSchedule(perLayer.ToArray());
    }

    /// <summary>The pairs layer <paramref name="layer"/> merges when <paramref name="tokens"/> tokens enter it.</summary>
    public int MergedAt(int layer, int tokens) => Math.Min(PerLayer[layer], (tokens - 1) / 2);

    /// <summary>The tokens after each layer for a model whose first layer receives <paramref name="tokens"/> tokens.</summary>
    public int[] TokensAfterLayers(int tokens)
    {
        var counts = new int[PerLayer.Count];
        for (var layer = 0; layer < counts.Length; layer++)
        {
            tokens -= MergedAt(layer, tokens);
            counts[layer] = tokens;
        }

        return counts;
    }
}
