using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;

/// <summary>
/// Decodes the image files named in a text column (relative to an image folder) into an
/// <see cref="MLImage"/> column, or reads their encoded bytes into a variable-size byte vector
/// (ML.NET's <c>ImageLoadingTransformer</c>). Decoding happens when a row is read; an unreadable file
/// fails that read with its name.
/// </summary>
public sealed class ImageLoadingTransformer : RowToRowTransformerBase
{
    internal ImageLoadingTransformer(string outputColumnName, string? imageFolder, string inputColumnName, bool rawBytes)
        => (OutputColumnName, ImageFolder, InputColumnName, RawBytes) = (outputColumnName, imageFolder, inputColumnName, rawBytes);

    /// <summary>The image column's name.</summary>
    public string OutputColumnName { get; }

    /// <summary>The folder relative paths start from (null: the current folder).</summary>
    public string? ImageFolder { get; }

    /// <summary>The path column's name.</summary>
    public string InputColumnName { get; }

    /// <summary>Whether the output is the encoded bytes rather than the decoded image.</summary>
    public bool RawBytes { get; }

    private protected override ColumnMapper MakeMapper(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumnName) ?? throw SchemaErrors.MissingColumn("input", InputColumnName);
        if (input.Type is not TextDataViewType)
        {
            throw SchemaErrors.Mismatch("input", InputColumnName, "String", input.Type.ToString()!);
        }

        string PathOf(ReadOnlyMemory<char> path) => ImageFolder is null ? path.ToString() : Path.Combine(ImageFolder, path.ToString());
        if (RawBytes)
        {
            return new OneToOneColumnMapper<ReadOnlyMemory<char>, VBuffer<byte>>(inputSchema, input, new(OutputColumnName, new VectorDataViewType(NumberDataViewType.Byte)), path =>
            {
                var file = PathOf(path);
                var bytes = File.Exists(file) ? File.ReadAllBytes(file) : throw new FileNotFoundException($"image file '{file}' not found", file);
                return new VBuffer<byte>(bytes.Length, bytes);
            });
        }

        return new OneToOneColumnMapper<ReadOnlyMemory<char>, MLImage>(inputSchema, input, new(OutputColumnName, new ImageDataViewType()), path => MLImage.CreateFromFile(PathOf(path)));
    }
}

/// <summary>Checks the input and returns an <see cref="ImageLoadingTransformer"/> (ML.NET's <c>ImageLoadingEstimator</c>).</summary>
public sealed class ImageLoadingEstimator : TrivialEstimator<ImageLoadingTransformer>
{
    private readonly ImageLoadingTransformer _transformer;

    internal ImageLoadingEstimator(ImageLoadingTransformer transformer)
        : base(transformer) => _transformer = transformer;

    /// <inheritdoc/>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.TryFindColumn(_transformer.InputColumnName, out var column))
        {
            throw SchemaErrors.MissingColumn("input", _transformer.InputColumnName);
        }

        if (column.Kind != SchemaShape.VectorKind.Scalar || column.ItemType is not TextDataViewType)
        {
            throw SchemaErrors.Mismatch("input", _transformer.InputColumnName, "String", column.ToString());
        }

        var output = _transformer.RawBytes
            ? new SchemaShape.Column(_transformer.OutputColumnName, SchemaShape.VectorKind.VariableVector, NumberDataViewType.Byte, false)
            : new SchemaShape.Column(_transformer.OutputColumnName, SchemaShape.VectorKind.Scalar, new ImageDataViewType(), false);
        return new SchemaShape(inputSchema.Append(output));
    }
}
