using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.TokenIdle.CodeGeneration;

/// <summary>
/// The row classes of generated code: <c>ModelInput</c> with a property per input-schema column and <c>ModelOutput</c>
/// with one per column the model adds, each bound by <c>[ColumnName]</c> with the C# type ML.NET binds it to.
/// </summary>
internal static class ModelTypesCode
{
    /// <summary>
    /// A class named <paramref name="name"/> with a property per column; columns of types no row class can hold (and,
    /// in an output class, decoded images, which the engine would make and never dispose) are left out with a comment.
    /// </summary>
    public static string Class(string name, string summary, IEnumerable<DataViewSchema.Column> columns, bool input, string indent)
    {
        var code = new StringBuilder();
        code.Append($"{indent}/// <summary>{summary}</summary>\n{indent}public sealed class {name}\n{indent}{{\n");
        var first = true;
        foreach (var column in columns.Where(c => !c.IsHidden))
        {
            if (!first)
            {
                code.Append('\n');
            }

            first = false;
            var type = TypeName(column.Type);
            if (type is null || (!input && column.Type is ImageDataViewType))
            {
                code.Append($"{indent}    // '{column.Name}' ({column.Type}) is not bound here.\n");
                continue;
            }

            code.Append($"{indent}    [ColumnName({CSharpLiteral.Of(column.Name)})]\n");
            if (input && column.Type is KeyDataViewType key)
            {
                code.Append(FormattableString.Invariant($"{indent}    [KeyType({key.Count})]\n"));
            }

            if (column.Type is VectorDataViewType { IsKnownSize: true } vector)
            {
                code.Append($"{indent}    [VectorType({string.Join(", ", vector.Dimensions.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))})]\n");
            }

            var initial = type == "string" ? " = string.Empty;" : type.EndsWith("[]", StringComparison.Ordinal) ? $" = System.Array.Empty<{type[..^2]}>();" : string.Empty;
            code.Append($"{indent}    public {type} {Identifier(column.Name)} {{ get; set; }}{initial}\n");
        }

        return code.Append($"{indent}}}\n").ToString();
    }

    /// <summary>A C# identifier for a column name (PascalCase, letters, digits and underscores).</summary>
    public static string Identifier(string columnName)
    {
        var text = new string(columnName.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
        text = text.Length == 0 || char.IsDigit(text[0]) ? "_" + text : text;
        return char.ToUpperInvariant(text[0]) + text[1..];
    }

    private static string? TypeName(DataViewType type) => type switch
    {
        TextDataViewType => "string",
        BooleanDataViewType => "bool",
        KeyDataViewType => "uint",
        ImageDataViewType => "MLImage?",
        PrimitiveDataViewType primitive => Keyword(primitive.RawType),
        VectorDataViewType { ItemType: var item } => item is not KeyDataViewType && TypeName(item) is { } element ? element + "[]" : null,
        _ => null,
    };

    private static string? Keyword(Type raw) => raw == typeof(float) ? "float" : raw == typeof(double) ? "double" : raw == typeof(byte) ? "byte" : raw == typeof(sbyte) ? "sbyte"
        : raw == typeof(short) ? "short" : raw == typeof(ushort) ? "ushort" : raw == typeof(int) ? "int" : raw == typeof(uint) ? "uint" : raw == typeof(long) ? "long" : raw == typeof(ulong) ? "ulong" : null;
}
