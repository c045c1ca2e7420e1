namespace Microsoft.ML.TokenIdle.Pipeline.Evaluation;

/// <summary>Quality of a multiclass classifier on scored data (ML.NET's <c>MulticlassClassificationMetrics</c>).</summary>
public sealed class MulticlassClassificationMetrics
{
    internal MulticlassClassificationMetrics(double micro, double macro, double logLoss, double logLossReduction, IReadOnlyList<double> perClassLogLoss, int topK, IReadOnlyList<double> topKForAllK, ConfusionMatrix confusion)
    {
        (MicroAccuracy, MacroAccuracy, LogLoss, LogLossReduction, PerClassLogLoss) = (micro, macro, logLoss, logLossReduction, perClassLogLoss);
        (TopKPredictionCount, TopKAccuracyForAllK, ConfusionMatrix) = (topK, topKForAllK, confusion);
        TopKAccuracy = topK > 0 ? topKForAllK[^1] : 0;
    }

    /// <summary>Fraction of rows predicted correctly.</summary>
    public double MicroAccuracy { get; }

    /// <summary>Mean over classes of the per-class accuracy (recall).</summary>
    public double MacroAccuracy { get; }

    /// <summary>−mean log p(true class), p clamped to [1e-15, 1].</summary>
    public double LogLoss { get; }

    /// <summary>(log-loss of the class prior − <see cref="LogLoss"/>) ÷ log-loss of the prior.</summary>
    public double LogLossReduction { get; }

    /// <summary>Mean log-loss of each class's rows.</summary>
    public IReadOnlyList<double> PerClassLogLoss { get; }

    /// <summary>Fraction whose true class is among the <see cref="TopKPredictionCount"/> highest scores (0 when not asked for).</summary>
    public double TopKAccuracy { get; }

    /// <summary>The K asked for (0: none).</summary>
    public int TopKPredictionCount { get; }

    /// <summary>Top-K accuracy for K = 1 … <see cref="TopKPredictionCount"/>.</summary>
    public IReadOnlyList<double> TopKAccuracyForAllK { get; }

    /// <summary>The confusion matrix.</summary>
    public ConfusionMatrix ConfusionMatrix { get; }
}
