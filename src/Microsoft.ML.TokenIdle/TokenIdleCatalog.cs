using System.ComponentModel;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML;

/// <summary>
/// The ViT trainers on ML.NET's <c>MulticlassClassification.Trainers</c> — the full model and the four
/// token-reduction methods, each as a short overload (the method's own parameters first, then ML.NET's
/// column and recipe parameters; everything else, the backbone among it, at the <c>Options</c> defaults: the papers'
/// DeiT-S from the Hugging Face Hub) and as an overload taking the trainer's <c>Options</c> — and image-folder loading on
/// <c>Data</c>.
/// </summary>
public static class TokenIdleCatalog
{
    /// <summary>Finetunes the full ViT (no token reduction).</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="labelColumnName">The key-typed label column (<c>MapValueToKey</c>).</param>
    /// <param name="imageColumnName">The image column: images (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or normalised float vectors [C, S, S].</param>
    /// <param name="scoreColumnName">The output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">The output key column of the predicted class.</param>
    /// <param name="batchSize">Images per optimizer step and per scoring pass.</param>
    /// <param name="maxEpochs">Epochs over the training rows (0: score the backbone's weights as they are).</param>
    /// <param name="validationSet">Rows evaluated after each epoch, or null.</param>
    /// <returns>The trainer, an estimator of <see cref="VisionTransformerClassifier"/>.</returns>
    public static VisionTransformerTrainer VisionTransformer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.VisionTransformer(Columns(new VisionTransformerTrainer.Options(), labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>Finetunes the full ViT with <paramref name="options"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="options">Every setting (<see cref="VisionTransformerTrainerBase.OptionsBase"/>).</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentException">A setting is out of range (checked here and again at <c>Fit</c>).</exception>
    public static VisionTransformerTrainer VisionTransformer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, VisionTransformerTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>IdleViT: token idling at keep ratio <paramref name="keepRatio"/> with the token cut loss weighted by <paramref name="cutLossWeight"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="keepRatio">Base keep ratio k in (0, 1]: idle layers 4..11 of 12 process k, k, k, k², k², k², k³, k³ of the patches.</param>
    /// <param name="cutLossWeight">θ, weight of the token cut loss (the paper's 20).</param>
    /// <param name="labelColumnName">The key-typed label column (<c>MapValueToKey</c>).</param>
    /// <param name="imageColumnName">The image column: images (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or normalised float vectors [C, S, S].</param>
    /// <param name="scoreColumnName">The output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">The output key column of the predicted class.</param>
    /// <param name="batchSize">Images per optimizer step and per scoring pass.</param>
    /// <param name="maxEpochs">Epochs over the training rows (0: score the backbone's weights as they are).</param>
    /// <param name="validationSet">Rows evaluated after each epoch, or null.</param>
    /// <returns>The trainer, an estimator of <see cref="VisionTransformerClassifier"/>.</returns>
    public static TokenIdleImageClassificationTrainer TokenIdleImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        float keepRatio = 0.7f, float cutLossWeight = 20f,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.TokenIdleImageClassification(Columns(
            new TokenIdleImageClassificationTrainer.Options { TokenReduction = { KeepRatio = Exact(keepRatio) }, CutLossWeight = Exact(cutLossWeight) },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>IdleViT with <paramref name="options"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="options">Every setting: the recipe (<see cref="VisionTransformerTrainerBase.OptionsBase"/>), the idling schedule and the loss weights.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentException">A setting is out of range (checked here and again at <c>Fit</c>).</exception>
    public static TokenIdleImageClassificationTrainer TokenIdleImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenIdleImageClassificationTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>EViT: keep <paramref name="keepRatio"/> of the tokens at each reduction layer, fusing the others into one when <paramref name="fuseInattentive"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="keepRatio">Keep ratio k in (0, 1] at layers 3, 6 and 9 of 12.</param>
    /// <param name="fuseInattentive">Fuse the dropped tokens into one extra token (the paper's main results).</param>
    /// <param name="labelColumnName">The key-typed label column (<c>MapValueToKey</c>).</param>
    /// <param name="imageColumnName">The image column: images (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or normalised float vectors [C, S, S].</param>
    /// <param name="scoreColumnName">The output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">The output key column of the predicted class.</param>
    /// <param name="batchSize">Images per optimizer step and per scoring pass.</param>
    /// <param name="maxEpochs">Epochs over the training rows (0: score the backbone's weights as they are).</param>
    /// <param name="validationSet">Rows evaluated after each epoch, or null.</param>
    /// <returns>The trainer, an estimator of <see cref="VisionTransformerClassifier"/>.</returns>
    public static TokenReorganizationImageClassificationTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        float keepRatio = 0.7f, bool fuseInattentive = true,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.TokenReorganizationImageClassification(Columns(
            new TokenReorganizationImageClassificationTrainer.Options { TokenReduction = { KeepRatio = Exact(keepRatio), FuseInattentive = fuseInattentive } },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>The older spelling of <see cref="TokenReorganizationImageClassification(MulticlassClassificationCatalog.MulticlassClassificationTrainers, float, bool, string, string, string, string, int, int, IDataView?)"/>, whose keep ratio was named <paramref name="keepRate"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="keepRate">Keep ratio k in (0, 1].</param>
    /// <param name="fuseInattentive">Fuse the dropped tokens into one extra token.</param>
    /// <param name="labelColumnName">The key-typed label column (<c>MapValueToKey</c>).</param>
    /// <param name="imageColumnName">The image column: images (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or normalised float vectors [C, S, S].</param>
    /// <param name="scoreColumnName">The output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">The output key column of the predicted class.</param>
    /// <param name="batchSize">Images per optimizer step and per scoring pass.</param>
    /// <param name="maxEpochs">Epochs over the training rows (0: score the backbone's weights as they are).</param>
    /// <param name="validationSet">Rows evaluated after each epoch, or null.</param>
    /// <returns>The trainer.</returns>
    [Obsolete("The keep ratio is named keepRatio now.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static TokenReorganizationImageClassificationTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        double keepRate, bool fuseInattentive = true,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.TokenReorganizationImageClassification((float)keepRate, fuseInattentive, labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet);

    /// <summary>EViT with <paramref name="options"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="options">Every setting: the recipe (<see cref="VisionTransformerTrainerBase.OptionsBase"/>), the keep ratio and fusion.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentException">A setting is out of range (checked here and again at <c>Fit</c>).</exception>
    public static TokenReorganizationImageClassificationTrainer TokenReorganizationImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenReorganizationImageClassificationTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>Life-regression patch slimming at keep ratio <paramref name="keepRatio"/> (a predictor stage, then the backbone).</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="keepRatio">Keep ratio ρ in (0, 1] at the slimming layers 4, 7 and 10 of 12.</param>
    /// <param name="labelColumnName">The key-typed label column (<c>MapValueToKey</c>).</param>
    /// <param name="imageColumnName">The image column: images (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or normalised float vectors [C, S, S].</param>
    /// <param name="scoreColumnName">The output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">The output key column of the predicted class.</param>
    /// <param name="batchSize">Images per optimizer step and per scoring pass.</param>
    /// <param name="maxEpochs">Epochs over the training rows (0: score the backbone's weights as they are).</param>
    /// <param name="validationSet">Rows evaluated after each epoch, or null.</param>
    /// <returns>The trainer, an estimator of <see cref="VisionTransformerClassifier"/>.</returns>
    public static LifeRegressionSlimmingTrainer LifeRegressionSlimming(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        float keepRatio = 0.7f,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.LifeRegressionSlimming(Columns(
            new LifeRegressionSlimmingTrainer.Options { TokenReduction = { KeepRatio = Exact(keepRatio) } },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>Life regression with <paramref name="options"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="options">Every setting: the recipe (<see cref="VisionTransformerTrainerBase.OptionsBase"/>), the slimming schedule, the predictor and its stage.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentException">A setting is out of range (checked here and again at <c>Fit</c>).</exception>
    public static LifeRegressionSlimmingTrainer LifeRegressionSlimming(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, LifeRegressionSlimmingTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>ToMe: finetunes with <paramref name="mergedPerLayer"/> token pairs merged in every layer (proportional attention off, as the reference trains).</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="mergedPerLayer">r, the token pairs each layer merges (DeiT-S: 13 in the paper).</param>
    /// <param name="labelColumnName">The key-typed label column (<c>MapValueToKey</c>).</param>
    /// <param name="imageColumnName">The image column: images (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or normalised float vectors [C, S, S].</param>
    /// <param name="scoreColumnName">The output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">The output key column of the predicted class.</param>
    /// <param name="batchSize">Images per optimizer step and per scoring pass.</param>
    /// <param name="maxEpochs">Epochs over the training rows (0: score the backbone's weights as they are, with proportional attention).</param>
    /// <param name="validationSet">Rows evaluated after each epoch, or null.</param>
    /// <returns>The trainer, an estimator of <see cref="VisionTransformerClassifier"/>.</returns>
    public static TokenMergingImageClassificationTrainer TokenMergingImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        int mergedPerLayer = 8,
        string labelColumnName = "Label", string imageColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel",
        int batchSize = 32, int maxEpochs = 3, IDataView? validationSet = null)
        => catalog.TokenMergingImageClassification(Columns(
            new TokenMergingImageClassificationTrainer.Options { TokenMerging = { MergedPerLayer = mergedPerLayer } },
            labelColumnName, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, maxEpochs, validationSet));

    /// <summary>ToMe with <paramref name="options"/>.</summary>
    /// <param name="catalog">ML.NET's multiclass trainers.</param>
    /// <param name="options">Every setting: the recipe (<see cref="VisionTransformerTrainerBase.OptionsBase"/>), the merge schedule and proportional attention.</param>
    /// <returns>The trainer.</returns>
    /// <exception cref="ArgumentException">A setting is out of range (checked here and again at <c>Fit</c>).</exception>
    public static TokenMergingImageClassificationTrainer TokenMergingImageClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenMergingImageClassificationTrainer.Options options)
        => new(catalog.GetEnvironment(), options);

    /// <summary>
    /// The images of <c>folder/CLASS/*</c> (png, jpg, jpeg, bmp, gif, webp) as rows of <c>ImagePath</c> (full path) and
    /// <c>Label</c> (the sub-folder's name), in path order: the start of an image pipeline (<c>MapValueToKey("Label")</c>,
    /// <c>LoadImages("Image", null, "ImagePath")</c>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">It holds no images in class sub-folders.</exception>
    /// <param name="catalog">ML.NET's data catalog.</param>
    /// <param name="folder">The folder of class sub-folders.</param>
    /// <returns>A view of the rows.</returns>
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
