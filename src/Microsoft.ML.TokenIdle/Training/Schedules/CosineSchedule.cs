namespace Microsoft.ML.TokenIdle.Training.Schedules;

/// <summary>
/// Learning rate with linear warm-up and cosine decay to a floor, per optimizer step:
/// step s &lt; W: base·(s + 1)/W; afterwards floor + ½(base − floor)(1 + cos(π·(s − W)/(S − W))).
/// </summary>
public sealed class CosineSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public CosineSchedule(double baseRate, long totalSteps, long warmupSteps = 0, double floor = 1e-6)
    {
        if (!(baseRate > 0) || totalSteps < 1 || warmupSteps < 0 || warmupSteps > totalSteps || !(floor >= 0) || floor > baseRate)
        {
            throw new ArgumentException($"cosine schedule: need base rate > 0, total steps ≥ 1, 0 ≤ warm-up ≤ total and 0 ≤ floor ≤ base; got base {baseRate}, total {totalSteps}, warm-up {warmupSteps}, floor {floor}");
        }

        BaseRate = baseRate;
        TotalSteps = totalSteps;
        WarmupSteps = warmupSteps;
        Floor = floor;
    }

    /// <summary>Peak learning rate.</summary>
    public double BaseRate { get; }

    /// <summary>Steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>Steps of linear warm-up.</summary>
    public long WarmupSteps { get; }

    /// <summary>The rate the cosine ends at.</summary>
    public double Floor { get; }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based; past the end it stays at the floor).</summary>
    public double RateAt(long step)
    {
        if (step < WarmupSteps)
        {
            return BaseRate * (step + 1) / WarmupSteps;
        }

        var span = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / span);
        return Floor + 0.5 * (BaseRate - Floor) * (1 + Math.Cos(Math.PI * progress));
    }
}
