using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>How <see cref="ImageFiles"/> turns files into model inputs.</summary>
public sealed class ImageFileOptions
{
    /// <summary>Side of the square the images are resized to (the model's <c>img_size</c>).</summary>
    public int Size { get; init; } = 224;

    /// <summary>Colour channels of the model: 1 (grey) or 3 (RGB).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Number of classes of the model (labels must be below it); null: as many as the data has.</summary>
    public int? Classes { get; init; }

    /// <summary>Per-channel normalisation mean (0..1 scale); defaults to ImageNet's.</summary>
    public float[] Mean { get; init; } = { 0.485f, 0.456f, 0.406f };

    /// <summary>Per-channel normalisation standard deviation; defaults to ImageNet's.</summary>
    public float[] Std { get; init; } = { 0.229f, 0.224f, 0.225f };

    /// <summary>How the aspect ratio is fitted (ML.NET's default: crop the centre).</summary>
    public ResizeMode Resize { get; init; } = ResizeMode.IsoCrop;

    /// <summary>Interpolation kernel.</summary>
    public ResamplingFilter Filter { get; init; } = ResamplingFilter.Bilinear;

    /// <summary>Skip corrupt, unsupported or missing files instead of failing (each is reported to <see cref="OnSkipped"/>).</summary>
    public bool SkipUnreadable { get; init; }

    /// <summary>Called with the error of each skipped file, in file order.</summary>
    public Action<string>? OnSkipped { get; init; }

    internal void Validate()
    {
        if (Size < 1 || Channels is not (1 or 3) || Mean.Length != Channels || Std.Length != Channels || Std.Any(s => !(s > 0)))
        {
            throw new ArgumentException($"image file options: size {Size} must be positive, channels 1 or 3 (got {Channels}), one mean and one positive std per channel");
        }
    }
}
