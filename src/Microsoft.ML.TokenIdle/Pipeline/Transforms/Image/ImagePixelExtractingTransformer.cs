using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;

/// <summary>
/// Turns a known-size image column into a vector of its pixels (ML.NET's
/// <c>ImagePixelExtractingTransformer</c>): the chosen colour planes in the chosen order, planar
/// [planes, H, W] (the layout a ViT takes) or interleaved [H, W, planes], each value
/// <c>(pixel − offset) × scale</c> as floats, or the raw bytes.
/// </summary>
public sealed class ImagePixelExtractingTransformer : RowToRowTransformerBase
{
    internal ImagePixelExtractingTransformer(string outputColumnName, string inputColumnName, ImagePixelExtractingEstimator.ColorBits colors, ImagePixelExtractingEstimator.ColorsOrder order, bool interleave, float offset, float scale, bool asFloat)
    {
        if ((colors & ImagePixelExtractingEstimator.ColorBits.All) == 0)
        {
            throw new ArgumentException("extract at least one colour plane");
        }

        (OutputColumnName, InputColumnName, Colors, Order, Interleave, Offset, Scale, OutputAsFloatArray) = (outputColumnName, inputColumnName, colors, order, interleave, offset, scale, asFloat);
    }

    /// <summary>The vector column's name.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column's name.</summary>
    public string InputColumnName { get; }

    /// <summary>The planes extracted.</summary>
    public ImagePixelExtractingEstimator.ColorBits Colors { get; }

    /// <summary>The order of the planes.</summary>
    public ImagePixelExtractingEstimator.ColorsOrder Order { get; }

    /// <summary>[H, W, planes] rather than [planes, H, W].</summary>
    public bool Interleave { get; }

    /// <summary>Subtracted from each pixel before scaling.</summary>
    public float Offset { get; }

    /// <summary>Multiplies each pixel after the offset.</summary>
    public float Scale { get; }

    /// <summary>Floats (true) or the raw bytes.</summary>
    public bool OutputAsFloatArray { get; }

    /// <summary>The extracted planes as channel letters in output order (e.g. "RGB").</summary>
    internal string Planes => new(Order.ToString().Where(letter => (Colors & Bit(letter)) != 0).ToArray());

    private static ImagePixelExtractingEstimator.ColorBits Bit(char letter) => letter switch
    {
        'A' => ImagePixelExtractingEstimator.ColorBits.Alpha,
        'R' => ImagePixelExtractingEstimator.ColorBits.Red,
        'G' => ImagePixelExtractingEstimator.ColorBits.Green,
        _ => ImagePixelExtractingEstimator.ColorBits.Blue,
    };

    private protected override ColumnMapper MakeMapper(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumnName) ?? throw SchemaErrors.MissingColumn("input", InputColumnName);
        if (input.Type is not ImageDataViewType { IsKnownSize: true } type)
        {
            throw SchemaErrors.Mismatch("input", InputColumnName, "known-size image (resize it first)", input.Type.ToString()!);
        }

        var planes = Planes;
        var dims = Interleave ? new[] { type.Height, type.Width, planes.Length } : new[] { planes.Length, type.Height, type.Width };
        if (OutputAsFloatArray)
        {
            return new OneToOneColumnMapper<MLImage, VBuffer<float>>(inputSchema, input, new(OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, dims)),
                image => new VBuffer<float>(dims[0] * dims[1] * dims[2], Extract(image, type, planes, b => (b - Offset) * Scale)));
        }

        return new OneToOneColumnMapper<MLImage, VBuffer<byte>>(inputSchema, input, new(OutputColumnName, new VectorDataViewType(NumberDataViewType.Byte, dims)),
            image => new VBuffer<byte>(dims[0] * dims[1] * dims[2], Extract(image, type, planes, b => b)));
    }

    private T[] Extract<T>(MLImage image, ImageDataViewType type, string planes, Func<byte, T> convert)
    {
        if (image.Width != type.Width || image.Height != type.Height)
        {
            throw new InvalidDataException($"image '{image.Tag}' is {image.Width}x{image.Height}, the column promises {type.Width}x{type.Height}");
        }

        var (plane, c) = (image.Width * image.Height, image.Channels);
        var pixels = image.Pixels;
        var result = new T[plane * planes.Length];
        for (var p = 0; p < planes.Length; p++)
        {
            // Grey images give the same sample for R, G and B; images without alpha are opaque.
            var source = planes[p] switch
            {
                'A' => c is 2 or 4 ? c - 1 : -1,
                'R' => 0,
                'G' => c >= 3 ? 1 : 0,
                _ => c >= 3 ? 2 : 0,
            };
            for (var i = 0; i < plane; i++)
            {
                var value = convert(source < 0 ? (byte)255 : pixels[i * c + source]);
                result[Interleave ? i * planes.Length + p : p * plane + i] = value;
            }
        }

        return result;
    }
}

/// <summary>Extracts pixels into a vector (ML.NET's <c>ImagePixelExtractingEstimator</c>).</summary>
public sealed class ImagePixelExtractingEstimator : TrivialEstimator<ImagePixelExtractingTransformer>
{
    private readonly ImagePixelExtractingTransformer _transformer;

    internal ImagePixelExtractingEstimator(ImagePixelExtractingTransformer transformer)
        : base(transformer) => _transformer = transformer;

    /// <summary>Which colour planes to extract.</summary>
    [Flags]
    public enum ColorBits : byte
    {
        /// <summary>Alpha.</summary>
        Alpha = 0x01,

        /// <summary>Red.</summary>
        Red = 0x02,

        /// <summary>Green.</summary>
        Green = 0x04,

        /// <summary>Blue.</summary>
        Blue = 0x08,

        /// <summary>Red, green and blue.</summary>
        Rgb = Red | Green | Blue,

        /// <summary>All four.</summary>
        All = Alpha | Rgb,
    }

    /// <summary>The order of the extracted planes.</summary>
    public enum ColorsOrder : byte
    {
        /// <summary>Alpha, red, green, blue.</summary>
        ARGB = 1,

        /// <summary>Alpha, red, blue, green.</summary>
        ARBG = 2,

        /// <summary>Alpha, blue, red, green.</summary>
        ABRG = 3,

        /// <summary>Alpha, blue, green, red.</summary>
        ABGR = 4,

        /// <summary>Alpha, green, red, blue.</summary>
        AGRB = 5,

        /// <summary>Alpha, green, blue, red.</summary>
        AGBR = 6,
    }

    /// <inheritdoc/>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.TryFindColumn(_transformer.InputColumnName, out var column))
        {
            throw SchemaErrors.MissingColumn("input", _transformer.InputColumnName);
        }

        if (column.ItemType is not ImageDataViewType { IsKnownSize: true })
        {
            throw SchemaErrors.Mismatch("input", _transformer.InputColumnName, "known-size image (resize it first)", column.ToString());
        }

        var item = _transformer.OutputAsFloatArray ? NumberDataViewType.Single : NumberDataViewType.Byte;
        return new SchemaShape(inputSchema.Append(new SchemaShape.Column(_transformer.OutputColumnName, SchemaShape.VectorKind.Vector, item, false)));
    }
}
