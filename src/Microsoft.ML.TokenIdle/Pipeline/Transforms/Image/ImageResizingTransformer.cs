using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;

/// <summary>Resizes an image column to a fixed size (ML.NET's <c>ImageResizingTransformer</c>), antialiased bilinear or bicubic.</summary>
public sealed class ImageResizingTransformer : RowToRowTransformerBase
{
    internal ImageResizingTransformer(string outputColumnName, int imageWidth, int imageHeight, string inputColumnName, ImageResizingEstimator.ResizingKind resizing, ImageResizingEstimator.Anchor cropAnchor, ResamplingFilter filter)
    {
        if (imageWidth < 1 || imageHeight < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(imageWidth), $"image size must be positive, got {imageWidth}x{imageHeight}");
        }

        (OutputColumnName, Width, Height, InputColumnName, Resizing, CropAnchor, Filter) = (outputColumnName, imageWidth, imageHeight, inputColumnName, resizing, cropAnchor, filter);
    }

    /// <summary>The resized image column's name.</summary>
    public string OutputColumnName { get; }

    /// <summary>Target width.</summary>
    public int Width { get; }

    /// <summary>Target height.</summary>
    public int Height { get; }

    /// <summary>The source image column's name.</summary>
    public string InputColumnName { get; }

    /// <summary>How the aspect ratio is fitted.</summary>
    public ImageResizingEstimator.ResizingKind Resizing { get; }

    /// <summary>What a crop or pad keeps in place.</summary>
    public ImageResizingEstimator.Anchor CropAnchor { get; }

    /// <summary>Interpolation kernel.</summary>
    public ResamplingFilter Filter { get; }

    private protected override ColumnMapper MakeMapper(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumnName) ?? throw SchemaErrors.MissingColumn("input", InputColumnName);
        if (input.Type is not ImageDataViewType)
        {
            throw SchemaErrors.Mismatch("input", InputColumnName, "Image", input.Type.ToString()!);
        }

        var mode = Resizing switch
        {
            ImageResizingEstimator.ResizingKind.IsoPad => ResizeMode.IsoPad,
            ImageResizingEstimator.ResizingKind.IsoCrop => ResizeMode.IsoCrop,
            _ => ResizeMode.Fill,
        };
        var anchor = (ResizeAnchor)(int)CropAnchor;
        return new OneToOneColumnMapper<MLImage, MLImage>(inputSchema, input, new(OutputColumnName, new ImageDataViewType(Height, Width)),
            image => new MLImage(ImageResizer.Resize(image.Image, Width, Height, mode, anchor, Filter)) { Tag = image.Tag });
    }
}

/// <summary>Resizes images (ML.NET's <c>ImageResizingEstimator</c>).</summary>
public sealed class ImageResizingEstimator : TrivialEstimator<ImageResizingTransformer>
{
    private readonly ImageResizingTransformer _transformer;

    internal ImageResizingEstimator(ImageResizingTransformer transformer)
        : base(transformer) => _transformer = transformer;

    /// <summary>How the aspect ratio is fitted.</summary>
    public enum ResizingKind
    {
        /// <summary>Scale to fit inside, pad with zeros.</summary>
        IsoPad,

        /// <summary>Scale to cover, crop the overhang (the default).</summary>
        IsoCrop,

        /// <summary>Stretch.</summary>
        Fill,
    }

    /// <summary>What a crop or pad keeps in place (same order as <see cref="ResizeAnchor"/>).</summary>
    public enum Anchor
    {
        /// <summary>The right edge.</summary>
        Right,

        /// <summary>The left edge.</summary>
        Left,

        /// <summary>The top edge.</summary>
        Top,

        /// <summary>The bottom edge.</summary>
        Bottom,

        /// <summary>The centre.</summary>
        Center,
    }

    /// <inheritdoc/>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.TryFindColumn(_transformer.InputColumnName, out var column))
        {
            throw SchemaErrors.MissingColumn("input", _transformer.InputColumnName);
        }

        if (column.ItemType is not ImageDataViewType)
        {
            throw SchemaErrors.Mismatch("input", _transformer.InputColumnName, "Image", column.ToString());
        }

        return new SchemaShape(inputSchema.Append(new SchemaShape.Column(_transformer.OutputColumnName, SchemaShape.VectorKind.Scalar, new ImageDataViewType(_transformer.Height, _transformer.Width), false)));
    }
}
