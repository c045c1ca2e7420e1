using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML;

/// <summary>
/// The ViT trainers on ML.NET's <c>MulticlassClassification.Trainers</c> — the full model and the three
/// token-reduction methods, each as a short overload (the method's own parameters first, then ML.NET's
/// column and recipe parameters; the backbone is the library's embedded Fashion-MNIST ViT) and as an
/// overload taking the trainer's <c>Options</c> — and image-folder loading on <c>Data</c>.
/// </summary>
public static class TokenIdleCatalog
{
    /// <summary>Finetunes the full ViT (no token reduction).</summary>
    public static VisionTransformerTrainer VisionTransformer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.VisionTransformer(Columns(new VisionTransformerTrainer.Options(), labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>Finetunes the full ViT with <paramref name="options"/>.</summary>
    public static VisionTransformerTrainer VisionTransformer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, VisionTransformerTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>IdleViT: token idling at keep ratio <paramref name="keepRatio"/> with the token cut loss weighted by <paramref name="cutLossWeight"/>.</summary>
    public static TokenIdleImageClassificationTrainer TokenIdleImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        float keepRatio = 0.7f, float cutLossWeight = 20f,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.TokenIdleImageClassification(Columns(
            new TokenIdleImageClassificationTrainer.Options { TokenReduction = { KeepRate = Exact(keepRatio) }, CutLossWeight = Exact(cutLossWeight) },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>IdleViT with <paramref name="options"/>.</summary>
    public static TokenIdleImageClassificationTrainer TokenIdleImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenIdleImageClassificationTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>EViT: keep <paramref name="keepRate"/> of the tokens at each reduction layer, fusing the others into one when <paramref name="fuseInattentive"/>.</summary>
    public static TokenReorganizationImageClassificationTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        float keepRate = 0.7f, bool fuseInattentive = true,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.TokenReorganizationImageClassification(Columns(
            new TokenReorganizationImageClassificationTrainer.Options { TokenReduction = { KeepRate = Exact(keepRate), FuseInattentive = fuseInattentive } },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>EViT with <paramref name="options"/>.</summary>
    public static TokenReorganizationImageClassificationTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenReorganizationImageClassificationTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>Life-regression patch slimming at keep ratio <paramref name="keepRatio"/> (a predictor stage, then the backbone).</summary>
    public static LifeRegressionSlimmingTrainer LifeRegressionSlimming(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        float keepRatio = 0.7f,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.LifeRegressionSlimming(Columns(
            new LifeRegressionSlimmingTrainer.Options { TokenReduction = { KeepRate = Exact(keepRatio) } },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>Life regression with <paramref name="options"/>.</summary>
    public static LifeRegressionSlimmingTrainer LifeRegressionSlimming(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, LifeRegressionSlimmingTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>
    /// The images of <c>folder/CLASS/*</c> (png, jpg, jpeg, bmp, gif, webp) as rows of <c>ImagePath</c> (full path) and
    /// <c>Label</c> (the sub-folder's name), in path order: the start of an image pipeline (<c>MapValueToKey("Label")</c>,
    /// <c>LoadImages("Image", null, "ImagePath")</c>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">It holds no images in class sub-folders.</exception>
    public static IDataView LoadImagesFromFolder(this DataOperationsCatalog catalog, string folder)
    {
        var rows = ImageFiles.ListFolder(folder);
        var builder = new ArrayDataViewBuilder(catalog.GetEnvironment());
        builder.AddColumn("ImagePath", TextDataViewType.Instance, rows.Select(r => r.Path.AsMemory()).ToArray());
        builder.AddColumn("Label", TextDataViewType.Instance, rows.Select(r => r.Label.AsMemory()).ToArray());
        return builder.GetDataView();
    }

    // The float parameters' decimal value (0.7f is 0.699999988 as a double, which moves floor(k·N) at some N).
    private static double Exact(float value) => (double)(decimal)value;

    private static T Columns<T>(T options, string label, string image, string score, string predicted, int batchSize, int maxEpochs, IDataView? validationSet)
        where T : VisionTransformerTrainerBase.OptionsBase
    {
        (options.LabelColumnName, options.ImageColumnName, options.ScoreColumnName, options.PredictedLabelColumnName) = (label, image, score, predicted);
        (options.BatchSize, options.MaxEpoch, options.ValidationSet) = (batchSize, maxEpochs, validationSet);
        return options;
    }
}
