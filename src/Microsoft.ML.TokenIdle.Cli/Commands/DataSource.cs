using System.CommandLine;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Data;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// A labelled dataset named on the command line: <c>fashion-mnist:train|test</c> (Debian's
/// <c>dataset-fashion-mnist</c> IDX files), an image folder with one sub-folder per class, or a
/// CSV/TSV of <c>path,label</c> rows; images are fitted to the model's size and channels and
/// normalised with the config's <c>mean</c>/<c>std</c> (when it has none: Fashion-MNIST's own
/// statistics for that dataset, ImageNet's for RGB files, 0.5/0.5 for grey files).
/// </summary>
internal static class DataSource
{
    public const string Description = "labelled images: fashion-mnist:train, fashion-mnist:test, an image folder (one sub-folder per class) or a .csv/.tsv of path,label rows";

    /// <summary>The <c>--skip-unreadable</c> flag of the verbs that read image files.</summary>
    public static Option<bool> SkipUnreadableOption() => new("--skip-unreadable") { Description = "skip corrupt or unsupported image files (each is reported) instead of stopping" };

    /// <summary>An optional image-count limit option; a value below 1 is a parse error naming the flag.</summary>
    public static Option<int?> LimitOption(string name, string what)
    {
        var option = new Option<int?>(name) { Description = $"use only the first N images of {what}" };
        option.Validators.Add(given =>
        {
            if (given.GetValueOrDefault<int?>() is { } n and < 1)
            {
                given.AddError($"{name} must be at least 1, got {n}");
            }
        });
        return option;
    }

    /// <summary>The <c>--cache-mb</c> option of the verbs that read labelled images.</summary>
    public static Option<long> CacheOption() => new("--cache-mb")
    {
        Description = "keep decoded images in memory after their first read when all of them fit in this many MB (0: decode every epoch)",
        DefaultValueFactory = _ => ImageFileOptions.DefaultCacheBudgetBytes >> 20,
    };

    /// <summary>
    /// <paramref name="spec"/> for a model of <paramref name="config"/>, listed, not decoded (image files stream through
    /// the data pipeline; Fashion-MNIST is read into memory); <paramref name="limit"/> (at least 1: the limit options check it) keeps the first images.
    /// </summary>
    public static ImageSource Load(string spec, VisionTransformerConfig config, int? limit, string option, bool skipUnreadable = false, long cacheMegabytes = ImageFileOptions.DefaultCacheBudgetBytes >> 20)
        => Load(spec, config, limit, option, skipUnreadable, cacheMegabytes, config.NumClasses);

    /// <summary>
    /// As <see cref="Load(string, VisionTransformerConfig, int?, string, bool, long)"/>, with the classes the data must
    /// have (<paramref name="classes"/>; null: as many as it has, for training a new head).
    /// </summary>
    public static ImageSource Load(string spec, VisionTransformerConfig config, int? limit, string option, bool skipUnreadable, long cacheMegabytes, int? classes)
    {
        if (cacheMegabytes < 0)
        {
            throw new ArgumentException($"--cache-mb must not be negative, got {cacheMegabytes}");
        }

        ImageSource data;
        if (spec.StartsWith("fashion-mnist:", StringComparison.Ordinal))
        {
            var mnist = FashionMnistFor(spec, config, option);
            data = config.Mean is { } mean ? mnist.WithNormalization(mean.Select(m => (float)m).ToArray(), config.Std!.Select(s => (float)s).ToArray()) : mnist;
        }
        else
        {
            data = FilesFor(spec, config, option, skipUnreadable, cacheMegabytes, classes);
        }

        if (classes is { } expected && data.Classes != expected)
        {
            throw new ArgumentException($"{option}: '{spec}' has {data.Classes} classes, the model {expected}");
        }

        return limit is { } n ? data.Take(n) : data;
    }

    private static ImageDataset FashionMnistFor(string spec, VisionTransformerConfig config, string option)
    {
        if (config.InChannels != 1)
        {
            throw new ArgumentException($"{option}: Fashion-MNIST images have 1 channel, the model {config.InChannels}");
        }

        return FashionMnist.Load(spec["fashion-mnist:".Length..], size: config.ImageSize);
    }

    private static ImageFileSource FilesFor(string spec, VisionTransformerConfig config, string option, bool skipUnreadable, long cacheMegabytes, int? classes)
    {
        var options = new ImageFileOptions
        {
            Format = config.InputFormat,
            Classes = classes,
            SkipUnreadable = skipUnreadable,
            OnSkipped = message => Console.Error.WriteLine($"tokenidle: skipped {message}"),
            CacheBudgetBytes = cacheMegabytes << 20,
        };
        if (Directory.Exists(spec))
        {
            return ImageFiles.Folder(spec, options);
        }

        if (File.Exists(spec) && Path.GetExtension(spec).ToLowerInvariant() is ".csv" or ".tsv")
        {
            return ImageFiles.Csv(spec, options);
        }

        throw new ArgumentException($"{option}: '{spec}' is neither fashion-mnist:train|test, an existing image folder, nor a .csv/.tsv file");
    }
}
