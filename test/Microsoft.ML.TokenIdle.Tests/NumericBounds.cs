using System.Globalization;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// The suite's bounds on computed floats, each from an error model instead of one CPU's observation. A float32
/// computation differs from the same computation in float64 (<see cref="Float64Reference"/>) by its rounding, as the
/// network amplifies it; that error was measured on the suite's models and inputs (the fixtures, the shipped
/// Fashion-MNIST model, the tests' trained tiny models; TorchSharp and ONNX Runtime) under the four kernel settings of
/// eng/test-cpus.sh on an AMD EPYC Zen 5, and each bound keeps a safety factor of about 100 over it, as the reference
/// fixtures' <c>atol</c> do (max(1e-4, 100 × their float32-vs-float64 error)). A test compares a float32 path with the
/// float64 run where it has one (the path's own error), and two float32 paths with twice the bound (their errors add).
/// A class or a selection is compared only where the reference's margin exceeds what the bound lets the scores move.
/// With <c>TOKENIDLE_BOUNDS_LOG</c> set, every check appends what it measured to that file, so a CPU's margins can be
/// read (eng/test-cpus.sh prints the largest share of each bound per setting).
/// </summary>
internal static class NumericBounds
{
    /// <summary>
    /// A softmax probability of one float32 path against float64: measured at most 7.1e-8 (the tiny trained models of
    /// <see cref="ImagePipelineData"/>; 3.4e-8 on the fixtures, 2.3e-8 on the shipped model), × 100 → 8e-6. Between two
    /// paths the suite saw at most 3e-7 (the finetuned Fashion-MNIST backbone, a generated app against the training process).
    /// </summary>
    public const double Probability = 8e-6;

    /// <summary>
    /// A logit of one float32 path against float64, as a share of the largest |logit| of the batch: measured at most
    /// 8.9e-7 (ONNX Runtime on micro; TorchSharp: deit-tiny fixture 1.2e-6 of 1.53, micro 2.4e-7 of 0.39, Fashion-MNIST
    /// model 3.2e-6 of 4.2), × 100 → 1e-4.
    /// Log-probabilities move by at most twice the largest logit move (the log-sum-exp moves by at most that).
    /// </summary>
    public const double RelativeLogit = 1e-4;

    /// <summary>
    /// A float32 result of a few dozen operations on values of order one (two AdamW steps, a distillation or cut loss
    /// of a few rows, one normalisation, a softmax's sum) against the same formula in float64 or another float32 order:
    /// each operation rounds by at most half an ulp (6e-8 relative), so a priori at most (operations × half an ulp ×
    /// magnitude), 8e-6 for the largest (distillation at temperature 3, whose t² = 9 scales its terms); measured at most
    /// 4.9e-7 there; the bound 1e-5 covers the a-priori worst case.
    /// </summary>
    public const double SmallComputation = 1e-5;

    private static readonly object LogLock = new();

    /// <summary>The logit bound of one float32 path for logits whose largest magnitude is <paramref name="largestLogit"/>.</summary>
    public static double Logit(double largestLogit) => RelativeLogit * largestLogit;

    /// <summary>Asserts <paramref name="measured"/> ≤ <paramref name="limit"/>, naming the bound, and logs the pair when TOKENIDLE_BOUNDS_LOG is set.</summary>
    public static void Within(string bound, double measured, double limit, string what)
    {
        if (Environment.GetEnvironmentVariable("TOKENIDLE_BOUNDS_LOG") is { Length: > 0 } log)
        {
            lock (LogLock)
            {
                File.AppendAllText(log, string.Create(CultureInfo.InvariantCulture, $"{bound}\t{measured:g3}\t{limit:g3}\t{what}\n"));
            }
        }

        Assert.True(measured <= limit, $"{what}: {measured:g3} exceeds the {bound} bound {limit:g3}");
    }

    /// <summary>Whether the largest two of <paramref name="scores"/> are further apart than two moves of <paramref name="move"/>, so no legitimate rounding can swap them.</summary>
    public static bool Decided(IEnumerable<double> scores, double move)
    {
        var top = scores.OrderDescending().Take(2).ToArray();
        return top.Length < 2 || top[0] - top[1] > 2 * move;
    }

    /// <summary>The largest |a − b| over two equally shaped tables.</summary>
    public static double LargestDifference(IReadOnlyList<float[]> a, IReadOnlyList<double[]> b)
    {
        Assert.Equal(b.Count, a.Count);
        return a.Zip(b, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).DefaultIfEmpty(0).Max();
    }

    /// <summary>The largest |a − b| over two equally shaped float32 tables.</summary>
    public static double LargestDifference(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b)
        => LargestDifference(a, b.Select(r => r.Select(v => (double)v).ToArray()).ToList());
}
