namespace Microsoft.ML.TokenIdle.Training;

/// <summary>Which validation figure early stopping watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>Top-1 accuracy (should increase).</summary>
    Accuracy,

    /// <summary>Cross-entropy (should decrease).</summary>
    Loss,
}

/// <summary>
/// Stops training when the validation metric has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs in a row (ML.NET's <c>EarlyStopping</c> criteria). Needs a validation set.
/// </summary>
/// <param name="MinDelta">The smallest change that counts as an improvement.</param>
/// <param name="Patience">Epochs without improvement before stopping.</param>
/// <param name="Metric">Accuracy (higher is better) or loss (lower is better).</param>
public sealed record EarlyStopping(double MinDelta = 0.01, int Patience = 20, EarlyStoppingMetric Metric = EarlyStoppingMetric.Accuracy)
{
    /// <summary>The watched figure, oriented so that higher is better.</summary>
    internal double Score(EvaluationResult validation) => Metric == EarlyStoppingMetric.Accuracy ? validation.Top1 : -validation.Loss;
}
