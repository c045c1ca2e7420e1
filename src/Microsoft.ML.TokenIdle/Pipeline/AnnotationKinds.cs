namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>The standard annotation kinds (ML.NET's <c>AnnotationUtils.Kinds</c>).</summary>
public static class AnnotationKinds
{
    /// <summary>The category names of a key column.</summary>
    public const string KeyValues = "KeyValues";

    /// <summary>A name per slot of a vector column (on <c>Score</c>: the class names).</summary>
    public const string SlotNames = "SlotNames";

    /// <summary>What a score column is for, e.g. <c>MulticlassClassification</c>.</summary>
    public const string ScoreColumnKind = "ScoreColumnKind";

    /// <summary><c>Score</c>, <c>PredictedLabel</c> or <c>Probability</c>.</summary>
    public const string ScoreValueKind = "ScoreValueKind";

    /// <summary>Ties the columns of one scoring step together.</summary>
    public const string ScoreColumnSetId = "ScoreColumnSetId";

    /// <summary>The label names seen in training.</summary>
    public const string TrainingLabelValues = "TrainingLabelValues";
}
