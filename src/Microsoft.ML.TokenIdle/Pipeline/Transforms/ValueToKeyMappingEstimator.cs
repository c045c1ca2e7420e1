using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Transforms;

/// <summary>
/// Learns the distinct values of a scalar column and maps them to keys 1..N (0 for values not seen in
/// training), keeping the values as the output column's <c>KeyValues</c> (ML.NET's
/// <c>ValueToKeyMappingEstimator</c>, for scalar text, number and boolean columns).
/// </summary>
public sealed class ValueToKeyMappingEstimator : IEstimator<ValueToKeyMappingTransformer>
{
    private readonly string _output;
    private readonly string _input;
    private readonly int _maximumNumberOfKeys;
    private readonly KeyOrdinality _ordinality;
    private readonly bool _keyValuesAsText;
    private readonly IDataView? _keyData;

    internal ValueToKeyMappingEstimator(string outputColumnName, string? inputColumnName, int maximumNumberOfKeys, KeyOrdinality keyOrdinality, bool addKeyValueAnnotationsAsText, IDataView? keyData)
    {
        if (maximumNumberOfKeys < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maximumNumberOfKeys), maximumNumberOfKeys, "at least one key");
        }

        (_output, _input, _maximumNumberOfKeys, _ordinality, _keyValuesAsText, _keyData) = (outputColumnName, inputColumnName ?? outputColumnName, maximumNumberOfKeys, keyOrdinality, addKeyValueAnnotationsAsText, keyData);
    }

    /// <summary>The order of the keys.</summary>
    public enum KeyOrdinality
    {
        /// <summary>In the order the values first occur.</summary>
        ByOccurrence,

        /// <summary>In sorted value order.</summary>
        ByValue,
    }

    /// <inheritdoc/>
    public ValueToKeyMappingTransformer Fit(IDataView input)
    {
        var source = _keyData ?? input;
        var column = CheckInput(source.Schema.GetColumnOrNull(_input));
        var values = new List<object>();
        var seen = new HashSet<object>();
        using (var cursor = source.GetRowCursor(new[] { column }))
        {
            var reader = ColumnReader.Create(cursor, column);
            while (cursor.MoveNext() && values.Count < _maximumNumberOfKeys)
            {
                var value = ValueToKeyMappingTransformer.Normalize(reader.Read());
                if (value is not null && seen.Add(value))
                {
                    values.Add(value);
                }
            }
        }

        if (_ordinality == KeyOrdinality.ByValue)
        {
            values.Sort(Comparer<object>.Default);
        }

        return new ValueToKeyMappingTransformer(_output, _input, (PrimitiveDataViewType)column.Type, values.ToArray(), _keyValuesAsText);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.TryFindColumn(_input, out var column))
        {
            throw SchemaErrors.MissingColumn("input", _input);
        }

        if (column.Kind != SchemaShape.VectorKind.Scalar || column.IsKey)
        {
            throw SchemaErrors.Mismatch("input", _input, "scalar text, number or boolean", column.ToString());
        }

        return new SchemaShape(inputSchema.Append(new SchemaShape.Column(_output, SchemaShape.VectorKind.Scalar, NumberDataViewType.UInt32, true, new[] { AnnotationKinds.KeyValues })));
    }

    private DataViewSchema.Column CheckInput(DataViewSchema.Column? column)
    {
        if (column is not { } c)
        {
            throw SchemaErrors.MissingColumn("input", _input);
        }

        if (c.Type is not (TextDataViewType or NumberDataViewType or BooleanDataViewType))
        {
            throw SchemaErrors.Mismatch("input", _input, "scalar text, number or boolean", c.Type.ToString()!);
        }

        return c;
    }
}
