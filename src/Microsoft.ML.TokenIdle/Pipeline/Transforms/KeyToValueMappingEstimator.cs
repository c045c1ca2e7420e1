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

        return (ColumnMapper)Activator.CreateInstance(typeof(Mapper<>).MakeGenericType(valuesType.ItemType.RawType), this, inputSchema, input, valuesType.ItemType)!;
    }

    private sealed class Mapper<T> : ColumnMapper
    {
        private readonly DataViewSchema.Column _input;
        private readonly T[] _values;
        private readonly T _missing;

        public Mapper(KeyToValueMappingTransformer parent, DataViewSchema schema, DataViewSchema.Column input, PrimitiveDataViewType itemType)
            : base(schema)
        {
            _input = input;
            VBuffer<T> values = default;
            input.Annotations.GetValue(AnnotationKinds.KeyValues, ref values);
            _values = values.ToArray();
            _missing = typeof(T) == typeof(float) ? (T)(object)float.NaN : typeof(T) == typeof(double) ? (T)(object)double.NaN : default!;
            var annotations = new DataViewSchema.Annotations.Builder();
            OutputColumns = new[] { new DataViewSchema.DetachedColumn(parent.OutputColumnName, itemType, annotations.ToAnnotations()) };
        }

        public override IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public override IEnumerable<DataViewSchema.Column> Dependencies(Func<int, bool> isOutputActive) => isOutputActive(0) ? new[] { _input } : Array.Empty<DataViewSchema.Column>();

        public override Delegate?[] MakeGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0))
            {
                return new Delegate?[1];
            }

            var keyGetter = input.GetGetter<uint>(_input);
            var key = 0u;
            ValueGetter<T> getter = (ref T value) =>
            {
                keyGetter(ref key);
                value = key >= 1 && key <= _values.Length ? _values[key - 1] : _missing;
            };
            return new Delegate?[] { getter };
        }
    }
}
