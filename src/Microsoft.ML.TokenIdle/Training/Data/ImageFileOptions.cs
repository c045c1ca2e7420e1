using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>How <see cref="ImageFiles"/> turns files into model inputs.</summary>
public sealed class ImageFileOptions
{
    /// <summary>The model's input (size, channels, mean and std, resize); default: DeiT's 224 px RGB with ImageNet statistics.</summary>
    public ImageInputFormat Format { get; init; } = Models.VisionTransformerConfig.DeitTiny.InputFormat;

    /// <summary>Number of classes of the model (labels must be below it); null: as many as the data has.</summary>
    public int? Classes { get; init; }

    /// <summary>The largest image (width × height) decoded; larger ones are refused from their header (unreadable).</summary>
    public long MaxPixels { get; init; } = ImageDecoder.DefaultMaxPixels;

    /// <summary>Skip corrupt, unsupported or missing files instead of failing (each is reported to <see cref="OnSkipped"/>).</summary>
    public bool SkipUnreadable { get; init; }

    /// <summary>Called with the error of each skipped file, once per file, as the passes meet it (from the consuming thread).</summary>
    public Action<string>? OnSkipped { get; init; }

    /// <summary>
    /// Decoded images are kept in memory after their first read when all of them fit in this many bytes
    /// (count × C × S × S); larger sets are decoded again in every pass. Default 512 MiB; 0 turns the cache off.
    /// </summary>
    public long CacheBudgetBytes { get; init; } = DefaultCacheBudgetBytes;

    /// <summary>The default <see cref="CacheBudgetBytes"/>: 512 MiB.</summary>
    public const long DefaultCacheBudgetBytes = 512L << 20;
}
