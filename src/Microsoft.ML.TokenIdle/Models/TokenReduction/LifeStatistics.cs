namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The mean μ and standard deviation σ that life regression standardises predicted lives to. They
/// follow from the schedule: n_t patches are processed at layer t, so n_t − n_{t+1} patches live
/// exactly to layer t and n_T to the last layer T:
/// μ = (Σ_{t&lt;T} t·(n_t − n_{t+1}) + T·n_T) / N and
/// σ² = (Σ_{t&lt;T} (t − μ)²·(n_t − n_{t+1}) + (T − μ)²·n_T) / N
/// (the paper prints the deviations unsquared, which cannot be right: the sum would be 0).
/// </summary>
/// <param name="Mean">μ.</param>
/// <param name="StdDev">σ.</param>
/// <param name="FinalLayer">T, the last layer; also the class token's life.</param>
public readonly record struct LifeStatistics(double Mean, double StdDev, int FinalLayer)
{
    /// <summary>From the patches processed at each layer (n_0 = N, non-increasing).</summary>
    /// <exception cref="ArgumentException">The counts are empty, grow, or start at zero.</exception>
    public static LifeStatistics FromCounts(IReadOnlyList<int> patchesPerLayer)
    {
        if (patchesPerLayer.Count == 0 || patchesPerLayer[0] < 1)
        {
            throw new ArgumentException("life statistics need at least one layer and a positive patch count");
        }

        for (var t = 1; t < patchesPerLayer.Count; t++)
        {
            if (patchesPerLayer[t] > patchesPerLayer[t - 1] || patchesPerLayer[t] < 1)
            {
                throw new ArgumentException($"life statistics: patch counts must be positive and non-increasing, got {string.Join(",", patchesPerLayer)}");
            }
        }

        var last = patchesPerLayer.Count - 1;
        double n = patchesPerLayer[0];
        double LivingTo(int t) => t == last ? patchesPerLayer[t] : patchesPerLayer[t] - patchesPerLayer[t + 1];
        var mean = Enumerable.Range(0, last + 1).Sum(t => t * LivingTo(t)) / n;
        var variance = Enumerable.Range(0, last + 1).Sum(t => (t - mean) * (t - mean) * LivingTo(t)) / n;
        return new LifeStatistics(mean, Math.Sqrt(variance), last);
    }
}
