using System.Collections;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// The ordered columns of a data view (ML.NET's <c>DataViewSchema</c>). A later column with the
/// same name hides an earlier one: a transform that writes an existing name replaces it.
/// </summary>
public sealed class DataViewSchema : IReadOnlyList<DataViewSchema.Column>
{
    private readonly Column[] _columns;
    private readonly Dictionary<string, int> _byName;

    private DataViewSchema(IEnumerable<(string Name, DataViewType Type, Annotations? Annotations)> columns)
    {
        var list = columns.ToList();
        _byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            _byName[list[i].Name] = i;
        }

        _columns = list.Select((c, i) => new Column(c.Name, i, _byName[c.Name] != i, c.Type, c.Annotations ?? Annotations.Empty)).ToArray();
    }

    /// <summary>Number of columns, hidden ones included.</summary>
    public int Count => _columns.Length;

    /// <summary>The column at <paramref name="columnIndex"/>.</summary>
    public Column this[int columnIndex] => _columns[columnIndex];

    /// <summary>The visible column named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such column.</exception>
    public Column this[string name] => GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(name), $"Could not find column '{name}'");

    /// <summary>The visible column named <paramref name="name"/>, or null.</summary>
    public Column? GetColumnOrNull(string name) => _byName.TryGetValue(name, out var i) ? _columns[i] : null;

    /// <inheritdoc/>
    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)_columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", _columns.Where(c => !c.IsHidden).Select(c => $"{c.Name}: {c.Type}"));

    /// <summary>A column: name, position, whether a later column hides it, type and annotations.</summary>
    public readonly struct Column
    {
        internal Column(string name, int index, bool isHidden, DataViewType type, Annotations annotations)
        {
            (Name, Index, IsHidden, Type, Annotations) = (name, index, isHidden, type, annotations);
        }

        /// <summary>The column's name.</summary>
        public string Name { get; }

        /// <summary>The column's position in its schema.</summary>
        public int Index { get; }

        /// <summary>Whether a later column of the same name hides it.</summary>
        public bool IsHidden { get; }

        /// <summary>The type of its values.</summary>
        public DataViewType Type { get; }

        /// <summary>Metadata such as <c>KeyValues</c> and <c>SlotNames</c>.</summary>
        public Annotations Annotations { get; }

        /// <inheritdoc/>
        public override string ToString() => $"{Name} ({Index}): {Type}";
    }

    /// <summary>A column description not bound to a schema (for building one).</summary>
    public sealed class DetachedColumn
    {
        /// <summary>Describes a column.</summary>
        public DetachedColumn(string name, DataViewType type, Annotations? annotations = null) => (Name, Type, Annotations) = (name, type, annotations ?? Annotations.Empty);

        /// <summary>Copies a schema's column.</summary>
        public DetachedColumn(Column column)
            : this(column.Name, column.Type, column.Annotations)
        {
        }

        /// <summary>The column's name.</summary>
        public string Name { get; }

        /// <summary>The type of its values.</summary>
        public DataViewType Type { get; }

        /// <summary>Its annotations.</summary>
        public Annotations Annotations { get; }
    }

    /// <summary>Builds a schema column by column.</summary>
    public sealed class Builder
    {
        private readonly List<(string, DataViewType, Annotations?)> _columns = new();

        /// <summary>Appends a column.</summary>
        public void AddColumn(string name, DataViewType type, Annotations? annotations = null) => _columns.Add((name, type, annotations));

        /// <summary>Appends copies of existing columns (hidden ones included, so they stay hidden).</summary>
        public void AddColumns(IEnumerable<Column> columns)
        {
            foreach (var c in columns)
            {
                _columns.Add((c.Name, c.Type, c.Annotations));
            }
        }

        /// <summary>Appends detached columns.</summary>
        public void AddColumns(IEnumerable<DetachedColumn> columns)
        {
            foreach (var c in columns)
            {
                _columns.Add((c.Name, c.Type, c.Annotations));
            }
        }

        /// <summary>The schema built so far.</summary>
        public DataViewSchema ToSchema() => new(_columns);
    }

    /// <summary>A column's metadata: named values, each with a type and a getter.</summary>
    public sealed class Annotations
    {
        private readonly Dictionary<string, (DataViewType Type, Delegate Getter)> _values;

        private Annotations(Dictionary<string, (DataViewType, Delegate)> values) => _values = values;

        /// <summary>No annotations.</summary>
        public static Annotations Empty { get; } = new(new Dictionary<string, (DataViewType, Delegate)>());

        /// <summary>The annotation kinds present.</summary>
        public IEnumerable<string> Kinds => _values.Keys;

        /// <summary>The type of annotation <paramref name="kind"/>, or null.</summary>
        public DataViewType? GetTypeOrNull(string kind) => _values.TryGetValue(kind, out var v) ? v.Type : null;

        /// <summary>Reads annotation <paramref name="kind"/> into <paramref name="value"/>.</summary>
        /// <exception cref="InvalidOperationException">The annotation is missing or of another type.</exception>
        public void GetValue<TValue>(string kind, ref TValue value)
        {
            if (!_values.TryGetValue(kind, out var entry))
            {
                throw new InvalidOperationException($"Metadata {kind} does not exist");
            }

            if (entry.Getter is not ValueGetter<TValue> getter)
            {
                throw new InvalidOperationException($"Metadata {kind} is of type {entry.Type}, not {typeof(TValue).Name}");
            }

            getter(ref value);
        }

        /// <summary>Builds annotations.</summary>
        public sealed class Builder
        {
            private readonly Dictionary<string, (DataViewType, Delegate)> _values = new(StringComparer.Ordinal);

            /// <summary>Adds (or replaces) annotation <paramref name="kind"/>.</summary>
            public void Add<TValue>(string kind, DataViewType type, ValueGetter<TValue> getter)
            {
                if (type.RawType != typeof(TValue))
                {
                    throw new ArgumentException($"annotation {kind}: type {type} holds {type.RawType.Name}, not {typeof(TValue).Name}");
                }

                _values[kind] = (type, getter);
            }

            /// <summary>Adds <c>KeyValues</c>: the category names of a key column, one per key.</summary>
            public void AddKeyValues<TValue>(int size, PrimitiveDataViewType valueType, ValueGetter<VBuffer<TValue>> getter)
                => Add(AnnotationKinds.KeyValues, new VectorDataViewType(valueType, size), getter);

            /// <summary>Adds <c>SlotNames</c>: a name per slot of a vector column.</summary>
            public void AddSlotNames(int size, ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter)
                => Add(AnnotationKinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, size), getter);

            /// <summary>Copies the annotations of <paramref name="annotations"/> whose kind <paramref name="selector"/> accepts.</summary>
            public void Add(Annotations annotations, Func<string, bool> selector)
            {
                foreach (var (kind, value) in annotations._values)
                {
                    if (selector(kind))
                    {
                        _values[kind] = value;
                    }
                }
            }

            /// <summary>The annotations built so far.</summary>
            public Annotations ToAnnotations() => new(new Dictionary<string, (DataViewType, Delegate)>(_values));
        }
    }
}
