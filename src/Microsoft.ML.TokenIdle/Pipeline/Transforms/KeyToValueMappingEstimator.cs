using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Transforms;

/// <summary>Maps a key column back to the values in its <c>KeyValues</c> (ML.NET's <c>KeyToValueMappingEstimator</c>); nothing to learn.</summary>
public sealed class KeyToValueMappingEstimator : IEstimator<KeyToValueMappingTransformer>
{
    private readonly string _output;
    private readonly string _input;

    internal KeyToValueMappingEstimator(string outputColumnName, string? inputColumnName) => (_output, _input) = (outputColumnName, inputColumnName ?? outputColumnName);

    /// <inheritdoc/>
    public KeyToValueMappingTransformer Fit(IDataView input)
    {
        var transformer = new KeyToValueMappingTransformer(_output, _input);
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.TryFindColumn(_input, out var column))
        {
            throw SchemaErrors.MissingColumn("input", _input);
        }

        if (!column.IsKey || column.Kind != SchemaShape.VectorKind.Scalar)
        {
            throw SchemaErrors.Mismatch("input", _input, "Key<UInt32>", column.ToString());
        }

        if (!column.AnnotationKinds.Contains(AnnotationKinds.KeyValues))
        {
            throw new InvalidOperationException($"Metadata KeyValues does not exist on column '{_input}'");
        }

        // The value type is only known from the annotation's type at fit time; text is the common case.
        return new SchemaShape(inputSchema.Append(new SchemaShape.Column(_output, SchemaShape.VectorKind.Scalar, TextDataViewType.Instance, false)));
    }
}

/// <summary>Maps keys to their values (key 0 or out of range: empty text, NaN, or the type's default).</summary>
public sealed class KeyToValueMappingTransformer : RowToRowTransformerBase
{
    internal KeyToValueMappingTransformer(string outputColumnName, string inputColumnName) => (OutputColumnName, InputColumnName) = (outputColumnName, inputColumnName);

    /// <summary>The value column's name.</summary>
    public string OutputColumnName { get; }

    /// <summary>The key column's name.</summary>
    public string InputColumnName { get; }

    private protected override ColumnMapper MakeMapper(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumnName) ?? throw SchemaErrors.MissingColumn("input", InputColumnName);
        if (input.Type is not KeyDataViewType)
        {
            throw SchemaErrors.Mismatch("input", InputColumnName, "Key<UInt32>", input.Type.ToString()!);
        }

        if (input.Annotations.GetTypeOrNull(AnnotationKinds.KeyValues) is not VectorDataViewType valuesType)
        {
            throw new InvalidOperationException($"Metadata KeyValues does not exist on column '{InputColumnName}'");
        }

        var map = typeof(KeyToValueMappingTransformer).GetMethod(nameof(Mapper), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(valuesType.ItemType.RawType);
        return (ColumnMapper)map.Invoke(null, new object[] { inputSchema, input, new DataViewSchema.DetachedColumn(OutputColumnName, valuesType.ItemType) })!;
    }

    private static ColumnMapper Mapper<T>(DataViewSchema schema, DataViewSchema.Column input, DataViewSchema.DetachedColumn output)
    {
        VBuffer<T> buffer = default;
        input.Annotations.GetValue(AnnotationKinds.KeyValues, ref buffer);
        var values = buffer.ToArray();
        var missing = typeof(T) == typeof(float) ? (T)(object)float.NaN : typeof(T) == typeof(double) ? (T)(object)double.NaN : default!;
        return new OneToOneColumnMapper<uint, T>(schema, input, output, key => key >= 1 && key <= values.Length ? values[key - 1] : missing);
    }
}
