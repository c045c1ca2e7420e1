using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline.Evaluation;

public class MulticlassEvaluatorTests
{
    public sealed class Scored
    {
        [KeyType(3)]
        public uint Label { get; set; }

        [VectorType(3)]
        public float[] Score { get; set; } = Array.Empty<float>();

        [KeyType(3)]
        public uint PredictedLabel { get; set; }
    }

    [Fact]
    public void MetricsMatchAHandComputation()
    {
        var rows = new[]
        {
            new Scored { Label = 1, Score = new[] { 0.7f, 0.2f, 0.1f }, PredictedLabel = 1 },
            new Scored { Label = 2, Score = new[] { 0.5f, 0.4f, 0.1f }, PredictedLabel = 1 },
            new Scored { Label = 3, Score = new[] { 0.1f, 0.1f, 0.8f }, PredictedLabel = 3 },
            new Scored { Label = 2, Score = new[] { 0.2f, 0.6f, 0.2f }, PredictedLabel = 2 },
            new Scored { Label = 0, Score = new[] { 0.2f, 0.6f, 0.2f }, PredictedLabel = 2 },
        };
        var context = new MLContext();
        var metrics = context.MulticlassClassification.Evaluate(context.Data.LoadFromEnumerable(rows), topKPredictionCount: 2);
        Assert.Equal(0.75, metrics.MicroAccuracy, 9);
        Assert.Equal((1 + 0.5 + 1) / 3.0, metrics.MacroAccuracy, 9);
        var logLoss = -(Math.Log(0.7f) + Math.Log(0.4f) + Math.Log(0.8f) + Math.Log(0.6f)) / 4;
        Assert.Equal(logLoss, metrics.LogLoss, 6);
        var prior = -(0.25 * Math.Log(0.25) * 2 + 0.5 * Math.Log(0.5));
        Assert.Equal((prior - logLoss) / prior, metrics.LogLossReduction, 6);
        Assert.Equal(-(Math.Log(0.4f) + Math.Log(0.6f)) / 2, metrics.PerClassLogLoss[1], 6);
        Assert.Equal(new[] { 0.75, 1.0 }, metrics.TopKAccuracyForAllK);
        Assert.Equal(1.0, metrics.TopKAccuracy);
        Assert.Equal(new[] { 0.5, 1.0, 1.0 }, metrics.ConfusionMatrix.PerClassPrecision);
        Assert.Equal(new[] { 1.0, 0.5, 1.0 }, metrics.ConfusionMatrix.PerClassRecall);
        Assert.Equal(1, metrics.ConfusionMatrix.GetCountForClassPair(predictedClassIndex: 0, actualClassIndex: 1));
        Assert.Contains("Precision", metrics.ConfusionMatrix.GetFormattedConfusionTable());
    }

    [Fact]
    public void ProbabilitiesAreClampedSoACertainMistakeIsFinite()
    {
        var context = new MLContext();
        var rows = new[] { new Scored { Label = 1, Score = new[] { 0f, 1f, 0f }, PredictedLabel = 2 } };
        var metrics = context.MulticlassClassification.Evaluate(context.Data.LoadFromEnumerable(rows));
        Assert.Equal(-Math.Log(1e-15), metrics.LogLoss, 6);
        Assert.Equal(0, metrics.TopKPredictionCount);
    }
}
