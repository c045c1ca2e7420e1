using System.CommandLine;
using Microsoft.ML.TokenIdle;

namespace TokenIdle.Cli.Commands;

/// <summary>The <c>--precision</c> option (and <c>--half</c>, float16's older spelling, on commands that score).</summary>
internal sealed class PrecisionSource
{
    public Option<string?> Precision { get; } = new("--precision")
    {
        Description = "number format the network runs in: float32 (default), bfloat16 (fast on CPUs with AMX or AVX512-BF16 and on CUDA; "
            + "training runs mixed precision: bfloat16 products, float32 weights and loss) or float16 (CUDA; scoring only)",
    };

    public Option<bool> Half { get; } = new("--half") { Description = "score in float16: --precision float16" };

    /// <summary>Adds <c>--precision</c>, and <c>--half</c> when <paramref name="scoring"/>.</summary>
    public void AddTo(Command command, bool scoring)
    {
        command.Options.Add(Precision);
        if (scoring)
        {
            command.Options.Add(Half);
        }
    }

    /// <summary>The precision asked for: <c>--precision</c>, or float16 for <c>--half</c>; null when neither is given.</summary>
    /// <exception cref="ArgumentException">An unknown name, or <c>--half</c> beside another precision.</exception>
    public Precision? Parse(ParseResult result)
    {
        var named = result.GetValue(Precision) is { } name ? Precisions.Parse(name) : (Precision?)null;
        if (!result.GetValue(Half))
        {
            return named;
        }

        return named is null or Microsoft.ML.TokenIdle.Precision.Float16
            ? Microsoft.ML.TokenIdle.Precision.Float16
            : throw new ArgumentException($"--half means --precision float16, not {named.Value.Name()}: give one");
    }
}
