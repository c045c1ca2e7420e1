using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>The image transforms on <c>MLContext.Transforms</c> (ML.NET's <c>ImageEstimatorsCatalog</c>); the output column name comes first.</summary>
public static class ImageEstimatorsCatalog
{
    /// <summary>Decodes the PNG/JPEG files whose paths (relative to <paramref name="imageFolder"/>) are in <paramref name="inputColumnName"/>.</summary>
    public static ImageLoadingEstimator LoadImages(this TransformsCatalog catalog, string outputColumnName, string? imageFolder, string? inputColumnName = null)
        => new(new ImageLoadingTransformer(outputColumnName, imageFolder, inputColumnName ?? outputColumnName, rawBytes: false));

    /// <summary>Reads the encoded bytes of the files named in <paramref name="inputColumnName"/> into a variable-size byte vector.</summary>
    public static ImageLoadingEstimator LoadRawImageBytes(this TransformsCatalog catalog, string outputColumnName, string? imageFolder, string? inputColumnName = null)
        => new(new ImageLoadingTransformer(outputColumnName, imageFolder, inputColumnName ?? outputColumnName, rawBytes: true));

    /// <summary>Resizes images to <paramref name="imageWidth"/> × <paramref name="imageHeight"/> (width first, as ML.NET).</summary>
    public static ImageResizingEstimator ResizeImages(this TransformsCatalog catalog, string outputColumnName, int imageWidth, int imageHeight, string? inputColumnName = null,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor cropAnchor = ImageResizingEstimator.Anchor.Center,
        ResamplingFilter filter = ResamplingFilter.Bilinear)
        => new(new ImageResizingTransformer(outputColumnName, imageWidth, imageHeight, inputColumnName ?? outputColumnName, resizing, cropAnchor, filter));

    /// <summary>Extracts pixels as (pixel − <paramref name="offsetImage"/>) × <paramref name="scaleImage"/>, planar unless <paramref name="interleavePixelColors"/>.</summary>
    public static ImagePixelExtractingEstimator ExtractPixels(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        ImagePixelExtractingEstimator.ColorBits colorsToExtract = ImagePixelExtractingEstimator.ColorBits.Rgb,
        ImagePixelExtractingEstimator.ColorsOrder orderOfExtraction = ImagePixelExtractingEstimator.ColorsOrder.ARGB,
        bool interleavePixelColors = false, float offsetImage = 0, float scaleImage = 1, bool outputAsFloatArray = true)
        => new(new ImagePixelExtractingTransformer(outputColumnName, inputColumnName ?? outputColumnName, colorsToExtract, orderOfExtraction, interleavePixelColors, offsetImage, scaleImage, outputAsFloatArray));
}
