using System.CommandLine;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Cli.Commands;

/// <summary>
/// A labelled dataset named on the command line: <c>fashion-mnist:train</c> or <c>fashion-mnist:test</c>
/// (Debian's <c>dataset-fashion-mnist</c> IDX files, at the model's image size), optionally cut to its
/// first images with a limit.
/// </summary>
internal static class DataSource
{
    public const string Description = "labelled images: fashion-mnist:train or fashion-mnist:test (Debian's dataset-fashion-mnist)";

    /// <summary>Loads <paramref name="spec"/> for a model of <paramref name="config"/>; <paramref name="limit"/> keeps the first images.</summary>
    public static ImageDataset Load(string spec, VisionTransformerConfig config, int? limit, string option)
    {
        var parts = spec.Split(':', 2);
        if (parts.Length != 2 || parts[0] != "fashion-mnist")
        {
            throw new ArgumentException($"{option}: unknown dataset '{spec}'; use fashion-mnist:train or fashion-mnist:test");
        }

        if (config.InChannels != 1 || config.NumClasses != 10)
        {
            throw new ArgumentException($"{option}: Fashion-MNIST has 1 channel and 10 classes, the model {config.InChannels} and {config.NumClasses}");
        }

        var data = FashionMnist.Load(parts[1], size: config.ImageSize);
        if (limit is { } n)
        {
            if (n < 1)
            {
                throw new ArgumentException($"{option} limit must be at least 1, got {n}");
            }

            data = data.Take(n);
        }

        return data;
    }

    /// <summary>An optional positive image-count limit option.</summary>
    public static Option<int?> LimitOption(string name, string what) => new(name) { Description = $"use only the first N images of {what}" };
}
