namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>The built-in methods, as named on the command line.</summary>
public enum TokenReductionMethod
{
    /// <summary>No reduction (<c>full</c>).</summary>
    Full,

    /// <summary>EViT without fusion (<c>evit</c>).</summary>
    Evit,

    /// <summary>EViT with inattentive-token fusion (<c>evit-fuse</c>).</summary>
    EvitFuse,

    /// <summary>IdleViT token idling (<c>idle</c>).</summary>
    Idle,

    /// <summary>Life-regression patch slimming (<c>life</c>).</summary>
    Life,
}

/// <summary>Builds the built-in methods from a name, a keep rate or schedule and, for life regression, a predictor.</summary>
public static class TokenReductionMethods
{
    /// <summary>The command-line names, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "full", "evit", "evit-fuse", "idle", "life" };

    /// <summary>Parses a command-line name.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static TokenReductionMethod Parse(string name)
    {
        var i = Names.ToList().IndexOf(name.Trim().ToLowerInvariant());
        return i >= 0 ? (TokenReductionMethod)i : throw new ArgumentException($"unknown method '{name}': use one of {string.Join(", ", Names)}");
    }

    /// <summary>The options object of a method (null for <see cref="TokenReductionMethod.Full"/>).</summary>
    public static TokenReductionOptions? Options(TokenReductionMethod method, double keepRate, IReadOnlyList<double>? schedule = null, LifePredictor? predictor = null)
    {
        TokenReductionOptions? options = method switch
        {
            TokenReductionMethod.Full => null,
            TokenReductionMethod.Evit => new TokenReorganizationOptions { FuseInattentive = false },
            TokenReductionMethod.EvitFuse => new TokenReorganizationOptions { FuseInattentive = true },
            TokenReductionMethod.Idle => new TokenIdlingOptions(),
            TokenReductionMethod.Life => new LifeRegressionOptions { Predictor = predictor },
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown method"),
        };
        if (options is null)
        {
            return schedule is null ? null : throw new ArgumentException("the full model takes no schedule");
        }

        options.KeepRatio = keepRate;
        options.Schedule = schedule;
        return options;
    }

    /// <summary>The validated strategy of a method for a model of <paramref name="config"/>'s shape (null for the full model).</summary>
    public static TokenReductionStrategy? Create(TokenReductionMethod method, VisionTransformerConfig config, double keepRate, IReadOnlyList<double>? schedule = null, LifePredictor? predictor = null)
        => Options(method, keepRate, schedule, predictor)?.CreateStrategy(config);
}
