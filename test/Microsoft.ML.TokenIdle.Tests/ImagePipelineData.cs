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

    /// <summary>A fast recipe on the tiny config.</summary>
    public T Recipe<T>(T options)
        where T : VisionTransformerTrainerBase.OptionsBase
    {
        (options.ConfigPath, options.MaxEpoch, options.BatchSize, options.LearningRate, options.Seed) = (ConfigPath, 2, 16, 3e-3, 4);
        return options;
    }

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;
    }
}
