using Microsoft.ML.TokenIdle.Pipeline.Trainers;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Multiclass trainers and evaluation (ML.NET's <c>MLContext.MulticlassClassification</c>).</summary>
public sealed class MulticlassClassificationCatalog
{
    internal MulticlassClassificationCatalog(MLContext context)
    {
        Context = context;
        Trainers = new MulticlassClassificationTrainers(context);
    }

    /// <summary>The trainers; components add extension methods to it.</summary>
    public MulticlassClassificationTrainers Trainers { get; }

    internal MLContext Context { get; }

    /// <summary>
    /// Metrics of scored data (the output of a trained model's <c>Transform</c>): the label must be a key,
    /// the score a vector of probabilities; top-K accuracies when <paramref name="topKPredictionCount"/> &gt; 0.
    /// </summary>
    public Evaluation.MulticlassClassificationMetrics Evaluate(IDataView data, string labelColumnName = "Label", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel", int topKPredictionCount = 0)
        => Evaluation.MulticlassEvaluator.Evaluate(data, labelColumnName, scoreColumnName, predictedLabelColumnName, topKPredictionCount);

    /// <summary>The trainers sub-catalog (ML.NET's <c>MulticlassClassificationCatalog.MulticlassClassificationTrainers</c>).</summary>
    public sealed class MulticlassClassificationTrainers
    {
        internal MulticlassClassificationTrainers(MLContext context) => Context = context;

        internal MLContext Context { get; }
    }
}

/// <summary>The ViT trainers on <c>MulticlassClassification.Trainers</c>: the full model and the three token-reduction methods, each as a short overload and an Options overload.</summary>
public static class VisionTransformerCatalog
{
    /// <summary>Finetunes the full ViT (no token reduction).</summary>
    public static VisionTransformerTrainer VisionTransformer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.VisionTransformer(Columns(new VisionTransformerTrainerOptions(), labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>Finetunes the full ViT with <paramref name="options"/>.</summary>
    public static VisionTransformerTrainer VisionTransformer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, VisionTransformerTrainerOptions options)
        => new(catalog.Context, options);

    /// <summary>IdleViT: token idling at keep ratio <paramref name="keepRatio"/> with the token cut loss weighted by <paramref name="cutLossWeight"/>.</summary>
    public static VisionTransformerTrainer TokenIdleImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, double keepRatio = 0.7, double cutLossWeight = 20,
        string labelColumnName = "Label", string imageColumnName = "Image", int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => new(catalog.Context, Columns(new TokenIdleImageClassificationOptions { KeepRatio = keepRatio, CutLossWeight = cutLossWeight }, labelColumnName, imageColumnName, "Score", "PredictedLabel", batchSize, maxEpochs, validationSet));

    /// <summary>IdleViT with <paramref name="options"/>.</summary>
    public static VisionTransformerTrainer TokenIdleImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenIdleImageClassificationOptions options)
        => new(catalog.Context, options);

    /// <summary>EViT: keep <paramref name="keepRate"/> of the tokens at each reduction layer, fusing the rest into one when <paramref name="fuseInattentive"/>.</summary>
    public static VisionTransformerTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, double keepRate = 0.7, bool fuseInattentive = true,
        string labelColumnName = "Label", string imageColumnName = "Image", int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => new(catalog.Context, Columns(new TokenReorganizationImageClassificationOptions { KeepRate = keepRate, FuseInattentive = fuseInattentive }, labelColumnName, imageColumnName, "Score", "PredictedLabel", batchSize, maxEpochs, validationSet));

    /// <summary>EViT with <paramref name="options"/>.</summary>
    public static VisionTransformerTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenReorganizationImageClassificationOptions options)
        => new(catalog.Context, options);

    /// <summary>Life-regression patch slimming at keep ratio <paramref name="keepRatio"/> (predictor stage, then backbone stage).</summary>
    public static VisionTransformerTrainer LifeRegressionSlimming(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, double keepRatio = 0.7, int predictorEpochs = 1,
        string labelColumnName = "Label", string imageColumnName = "Image", int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => new(catalog.Context, Columns(new LifeRegressionSlimmingOptions { KeepRatio = keepRatio, PredictorEpochs = predictorEpochs }, labelColumnName, imageColumnName, "Score", "PredictedLabel", batchSize, maxEpochs, validationSet));

    /// <summary>Life regression with <paramref name="options"/>.</summary>
    public static VisionTransformerTrainer LifeRegressionSlimming(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, LifeRegressionSlimmingOptions options)
        => new(catalog.Context, options);

    private static T Columns<T>(T options, string label, string image, string score, string predicted, int batchSize, int maxEpochs, IDataView? validationSet)
        where T : VisionTransformerTrainerOptions
    {
        (options.LabelColumnName, options.ImageColumnName, options.ScoreColumnName, options.PredictionColumnName) = (label, image, score, predicted);
        (options.BatchSize, options.MaxEpoch, options.ValidationSet) = (batchSize, maxEpochs, validationSet);
        return options;
    }
}
