using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Transforms;

/// <summary>Maps values to the keys learned by <see cref="ValueToKeyMappingEstimator"/> (unseen values: key 0, missing).</summary>
public sealed class ValueToKeyMappingTransformer : RowToRowTransformerBase
{
    private readonly Dictionary<object, uint> _keys;

    internal ValueToKeyMappingTransformer(string outputColumnName, string inputColumnName, PrimitiveDataViewType valueType, object[] values, bool keyValuesAsText)
    {
        (OutputColumnName, InputColumnName, ValueType, Values, KeyValuesAsText) = (outputColumnName, inputColumnName, valueType, values, keyValuesAsText);
        _keys = values.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => (uint)(p.i + 1));
    }

    /// <summary>The key column's name.</summary>
    public string OutputColumnName { get; }

    /// <summary>The value column's name.</summary>
    public string InputColumnName { get; }

    /// <summary>The input values' type.</summary>
    public PrimitiveDataViewType ValueType { get; }

    /// <summary>Whether <c>KeyValues</c> are written as text.</summary>
    public bool KeyValuesAsText { get; }

    /// <summary>The value of each key, key i + 1 at index i (text as <see cref="string"/>).</summary>
    public IReadOnlyList<object> Values { get; }

    /// <summary>Text compares by content, so dictionary keys hold it as a string.</summary>
    internal static object? Normalize(object? value) => value is ReadOnlyMemory<char> text ? text.ToString() : value;

    private protected override ColumnMapper MakeMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    private sealed class Mapper : ColumnMapper
    {
        private readonly ValueToKeyMappingTransformer _parent;
        private readonly DataViewSchema.Column _input;

        public Mapper(ValueToKeyMappingTransformer parent, DataViewSchema schema)
            : base(schema)
        {
            _parent = parent;
            _input = schema.GetColumnOrNull(parent.InputColumnName) ?? throw SchemaErrors.MissingColumn("input", parent.InputColumnName);
            if (!_input.Type.Equals(parent.ValueType))
            {
                throw SchemaErrors.Mismatch("input", parent.InputColumnName, parent.ValueType.ToString()!, _input.Type.ToString()!);
            }

            var annotations = new DataViewSchema.Annotations.Builder();
            if (parent.KeyValuesAsText || parent.ValueType is TextDataViewType)
            {
                var texts = parent.Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!.AsMemory()).ToArray();
                annotations.AddKeyValues(texts.Length, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(texts.Length, texts));
            }
            else
            {
                typeof(Mapper).GetMethod(nameof(AddTypedKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .MakeGenericMethod(parent.ValueType.RawType).Invoke(null, new object[] { annotations, parent.ValueType, parent.Values });
            }

            OutputColumns = new[] { new DataViewSchema.DetachedColumn(parent.OutputColumnName, new KeyDataViewType(typeof(uint), (ulong)Math.Max(1, parent.Values.Count)), annotations.ToAnnotations()) };
        }

        public override IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public override IEnumerable<DataViewSchema.Column> Dependencies(Func<int, bool> isOutputActive) => isOutputActive(0) ? new[] { _input } : Array.Empty<DataViewSchema.Column>();

        public override Delegate?[] MakeGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0))
            {
                return new Delegate?[1];
            }

            var reader = ColumnReader.Create(input, _input);
            var keys = _parent._keys;
            ValueGetter<uint> getter = (ref uint value) => value = Normalize(reader.Read()) is { } v && keys.TryGetValue(v, out var key) ? key : 0;
            return new Delegate?[] { getter };
        }

        private static void AddTypedKeyValues<T>(DataViewSchema.Annotations.Builder builder, PrimitiveDataViewType type, IReadOnlyList<object> values)
        {
            var typed = values.Cast<T>().ToArray();
            builder.AddKeyValues(typed.Length, type, (ref VBuffer<T> value) => value = new VBuffer<T>(typed.Length, typed));
        }
    }
}
