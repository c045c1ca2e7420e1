using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// The image column a trainer or a trained model reads, in one of three forms: decoded images of any size
/// (ImageAnalytics' <see cref="MLImage"/>, from <c>LoadImages</c>), encoded image bytes (a variable-size
/// byte vector, from <c>LoadRawImageBytes</c> or a <c>byte[]</c> member), or the model's input already
/// normalised (a known-size float vector [C, S, S], e.g. from <c>ExtractPixels</c> with the model's mean and
/// std folded into its offset and scale). Images are brought to the model's input by its
/// <see cref="Imaging.ImageInputFormat"/>.
/// </summary>
internal static class ImageColumn
{
    /// <summary>The accepted forms, as a schema error names them.</summary>
    public static string Expected(VisionTransformerConfig config)
        => $"Image, Vector<Byte> (encoded image) or Vector<Single, {config.InChannels}, {config.ImageSize}, {config.ImageSize}> (normalised input, or flat of that size)";

    /// <summary>Whether <paramref name="type"/> is a form read for a model of <paramref name="config"/>'s input.</summary>
    public static bool Accepts(DataViewType type, VisionTransformerConfig config) => type switch
    {
        ImageDataViewType => true,
        VectorDataViewType { ItemType: var item, IsKnownSize: false } when item == NumberDataViewType.Byte => true,
        VectorDataViewType { ItemType: var item } vector when item == NumberDataViewType.Single => IsModelInput(vector, config),
        _ => false,
    };

    /// <summary>The same check on a schema shape (as estimators see columns before data flows).</summary>
    public static bool Accepts(SchemaShape.Column column) => column.ItemType switch
    {
        ImageDataViewType => column.Kind == SchemaShape.Column.VectorKind.Scalar,
        var item when item == NumberDataViewType.Byte => column.Kind == SchemaShape.Column.VectorKind.VariableVector,
        var item when item == NumberDataViewType.Single => column.Kind == SchemaShape.Column.VectorKind.Vector,
        _ => false,
    };

    /// <summary>Checks the image column of <paramref name="schema"/> with ML.NET's schema-error messages.</summary>
    public static DataViewSchema.Column Check(IExceptionContext host, DataViewSchema schema, string name, VisionTransformerConfig config)
    {
        var column = schema.GetColumnOrNull(name) ?? throw host.ExceptSchemaMismatch(nameof(schema), "image", name);
        return Accepts(column.Type, config) ? column : throw host.ExceptSchemaMismatch(nameof(schema), "image", name, Expected(config), column.Type.ToString());
    }

    /// <summary>
    /// The text columns of <paramref name="schema"/> that name a row in errors (an image path among them,
    /// since ML.NET's loader reports no file name when it cannot decode one); at most four.
    /// </summary>
    public static DataViewSchema.Column[] DescribingColumns(DataViewSchema schema)
        => schema.Where(c => !c.IsHidden && c.Type is TextDataViewType).Take(4).ToArray();

    // [C, S, S] as ExtractPixels makes it, or flat (after Concatenate), in planar order either way.
    private static bool IsModelInput(VectorDataViewType vector, VisionTransformerConfig config)
        => vector.Size == config.InputFormat.PlanarLength
           && (vector.Dimensions.Length == 1 || (vector.Dimensions.Length == 3 && vector.Dimensions[0] == config.InChannels && vector.Dimensions[1] == config.ImageSize));
}
