namespace Microsoft.ML.TokenIdle.Training;

/// <summary>Classification quality and speed on a dataset.</summary>
/// <param name="Top1">Fraction of images whose highest logit is the label.</param>
/// <param name="Top5">Fraction whose label is among the five highest logits.</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Count">Images evaluated.</param>
/// <param name="ImagesPerSecond">Scoring throughput.</param>
public sealed record EvaluationResult(double Top1, double Top5, double Loss, int Count, double ImagesPerSecond);
