using Microsoft.ML.TokenIdle.Tests.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>160 real Fashion-MNIST test images as PNG files in class folders, a tiny ViT config, and the usual ML.NET pipeline start.</summary>
public sealed class ImagePipelineData : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pipeline");

    public ImagePipelineData()
    {
        ImageFilesTests.WriteFolder(Images, 160);
        File.WriteAllText(ConfigPath, """{"img_size":28,"patch_size":7,"in_chans":1,"num_classes":10,"embed_dim":32,"depth":3,"num_heads":2,"mean":[0.286],"std":[0.353]}""");
    }

    public string Root => _dir.FullName;

    public string Images => Path.Combine(_dir.FullName, "images");

    public string ConfigPath => Path.Combine(_dir.FullName, "tiny.json");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>Rows of image path (relative to <see cref="Images"/>) and class name, split 3:1.</summary>
    public (IDataView Train, IDataView Test) Data(MLContext context)
    {
        var split = context.Data.TrainTestSplit(context.Data.LoadFromEnumerable(Rows()), 0.25, seed: 1);
        return (split.TrainSet, split.TestSet);
    }

    /// <summary>All rows, in path order.</summary>
    public List<ImageRow> Rows()
        => Directory.GetDirectories(Images).SelectMany(d => Directory.GetFiles(d).Select(f => new ImageRow { ImagePath = Path.GetRelativePath(Images, f), Label = "class" + Path.GetFileName(d) })).OrderBy(r => r.ImagePath, StringComparer.Ordinal).ToList();

    /// <summary>Label to key, image files to images.</summary>
    public IEstimator<ITransformer> Prepare(MLContext context)
        => context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.LoadImages("Image", Images, "ImagePath"));

    /// <summary>
    /// A fast recipe on the tiny config (with <paramref name="weights"/>, else random weights): batch 16, learning rate
    /// 3e-3, seed 4, no augmentation (two epochs of 120 images learn little through 8 % crops; the augmentation has its
    /// own tests), and two epochs where the options leave the trainer's default (a number of epochs the caller set, 0
    /// included, stays).
    /// </summary>
    public T Recipe<T>(T options, string? weights = null)
        where T : VisionTransformerTrainerBase.OptionsBase, new()
    {
        (options.Backbone, options.BatchSize, options.LearningRate, options.Seed) = (Backbone.Files(ConfigPath, weights), 16, 3e-3, 4);
        (options.MinCropScale, options.HorizontalFlip) = (1, false);
        if (options.MaxEpoch == new T().MaxEpoch)
        {
            options.MaxEpoch = 2;
        }

        return options;
    }

    /// <summary>The float64 probabilities of <paramref name="classifier"/>'s network and method on <paramref name="rows"/>' exact inputs (<see cref="Float64Reference"/>).</summary>
    public double[][] Float64Scores(VisionTransformerClassifier classifier, IEnumerable<ImageRow> rows)
        => Float64Reference.Probabilities(classifier.Model, classifier.Reduction, Float64Reference.ExactInputs(classifier.Model.Config, rows.Select(r => Path.Combine(Images, r.ImagePath))));

    /// <summary>The rows of <paramref name="data"/> in order.</summary>
    public static List<ImageRow> RowsOf(MLContext context, IDataView data) => context.Data.CreateEnumerable<ImageRow>(data, false).ToList();

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;
    }
}
