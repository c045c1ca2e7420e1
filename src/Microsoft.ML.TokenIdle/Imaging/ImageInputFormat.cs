using Microsoft.ML.Data;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// What a model takes as input, and the one place images are brought to it: <see cref="Channels"/>
/// colour channels (grey from RGB by BT.601 luma, RGB from grey by repetition, alpha dropped), resized to
/// <see cref="Size"/> × <see cref="Size"/> with the antialiased resizer (timm/PIL's, which ML.NET's
/// <c>ResizeImages</c> is not) after fitting the aspect ratio, as planar bytes [C, S, S]; batches are
/// then normalised per channel with <see cref="Mean"/> and <see cref="Std"/> (on the 0..1 scale).
/// </summary>
/// <param name="Size">Side of the square input in pixels.</param>
/// <param name="Channels">Colour channels, 1 (grey) or 3 (RGB).</param>
/// <param name="Mean">Per-channel mean on the 0..1 scale.</param>
/// <param name="Std">Per-channel standard deviation on the 0..1 scale.</param>
public sealed record ImageInputFormat(int Size, int Channels, float[] Mean, float[] Std)
{
    /// <summary>How the aspect ratio is fitted (default: crop the centre, as timm's evaluation transform).</summary>
    public ResizeMode Resize { get; init; } = ResizeMode.IsoCrop;

    /// <summary>Interpolation kernel of the resize.</summary>
    public ResamplingFilter Filter { get; init; } = ResamplingFilter.Bilinear;

    /// <summary>
    /// timm's evaluation crop (<c>crop_pct</c>, e.g. 0.875 for DeiT): the shorter side is scaled to
    /// floor(<see cref="Size"/> / crop_pct) and the centre <see cref="Size"/> × <see cref="Size"/> kept, done as one
    /// resampling of the central source box; null: the largest centred square (crop_pct 1).
    /// </summary>
    public double? CropPercent { get; init; }

    /// <summary>Bytes of one image in the model's layout (C·S·S).</summary>
    public int PlanarLength => Channels * Size * Size;

    /// <summary>The image with the model's channels at the model's size (resized only when it is another size, cropped by <see cref="CropPercent"/>).</summary>
    public PixelImage Fit(PixelImage image)
    {
        var fitted = image.ToColorChannels(Channels);
        if (CropPercent is { } crop && Resize == ResizeMode.IsoCrop)
        {
            // The centre square timm keeps after scaling the shorter side to floor(Size / crop_pct), in source pixels.
            var side = Math.Min(fitted.Width, fitted.Height) * Size / Math.Floor(Size / crop);
            return ImageResizer.ResizedCrop(fitted, Math.Floor((fitted.Width - side) / 2), Math.Floor((fitted.Height - side) / 2), side, side, Size, Size, Filter);
        }

        return fitted.Width == Size && fitted.Height == Size ? fitted : ImageResizer.Resize(fitted, Size, Size, Resize, ResizeAnchor.Center, Filter);
    }

    /// <summary>The image as the model's planar bytes [C, S, S].</summary>
    public byte[] ToPlanar(PixelImage image) => Fit(image).ToPlanar();

    /// <summary>A decoded <see cref="MLImage"/> (e.g. from ML.NET's <c>LoadImages</c>) as the model's planar bytes.</summary>
    public byte[] ToPlanar(MLImage image) => ToPlanar(ImageDecoder.FromMLImage(image));

    /// <summary>Checks the format describes a usable input.</summary>
    /// <exception cref="ArgumentException">Names the value at fault.</exception>
    public void Validate()
    {
        if (Size < 1 || Channels is not (1 or 3) || Mean.Length != Channels || Std.Length != Channels || Std.Any(s => !(s > 0)))
        {
            throw new ArgumentException($"image input: size {Size} must be positive, channels 1 or 3 (got {Channels}), one mean and one positive std per channel");
        }

        if (CropPercent is { } crop && !(crop > 0 && crop <= 1))
        {
            throw new ArgumentException($"image input: crop_pct {crop} is outside (0, 1]");
        }
    }
}
