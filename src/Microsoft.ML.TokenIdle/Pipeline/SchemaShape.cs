using System.Collections;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// The promise of a schema before data flows (ML.NET's <c>SchemaShape</c>): per column its name,
/// whether it is a scalar or a vector, the item type, whether it is a key, and its annotation kinds.
/// Estimators check a pipeline with it in <see cref="IEstimator{TTransformer}.GetOutputSchema"/>.
/// </summary>
public sealed class SchemaShape : IReadOnlyList<SchemaShape.Column>
{
    private readonly Column[] _columns;

    /// <summary>A shape of the given columns (a later column replaces an earlier one of the same name).</summary>
    public SchemaShape(IEnumerable<Column> columns) => _columns = columns.GroupBy(c => c.Name).Select(g => g.Last()).ToArray();

    /// <summary>The scalar, vector or variable-vector kind of a column.</summary>
    public enum VectorKind
    {
        /// <summary>One value per row.</summary>
        Scalar,

        /// <summary>A known-size vector.</summary>
        Vector,

        /// <summary>A vector whose size varies by row.</summary>
        VariableVector,
    }

    /// <summary>Number of columns.</summary>
    public int Count => _columns.Length;

    /// <summary>The column at <paramref name="index"/>.</summary>
    public Column this[int index] => _columns[index];

    /// <summary>The shape of an actual schema's visible columns.</summary>
    public static SchemaShape Create(DataViewSchema schema) => new(schema.Where(c => !c.IsHidden).Select(Column.FromSchemaColumn));

    /// <summary>Finds a column by name.</summary>
    public bool TryFindColumn(string name, out Column column)
    {
        column = _columns.FirstOrDefault(c => c.Name == name);
        return column.Name == name;
    }

    /// <inheritdoc/>
    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)_columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>One column's shape.</summary>
    public readonly struct Column
    {
        /// <summary>Describes a column.</summary>
        public Column(string name, VectorKind kind, DataViewType itemType, bool isKey, IReadOnlyList<string>? annotationKinds = null)
        {
            (Name, Kind, ItemType, IsKey) = (name, kind, itemType, isKey);
            AnnotationKinds = annotationKinds ?? Array.Empty<string>();
        }

        /// <summary>The column's name.</summary>
        public string Name { get; }

        /// <summary>Scalar or vector.</summary>
        public VectorKind Kind { get; }

        /// <summary>The item type (for a key: UInt32).</summary>
        public DataViewType ItemType { get; }

        /// <summary>Whether the items are keys.</summary>
        public bool IsKey { get; }

        /// <summary>The annotation kinds it carries (e.g. KeyValues).</summary>
        public IReadOnlyList<string> AnnotationKinds { get; }

        /// <inheritdoc/>
        public override string ToString() => Kind switch
        {
            VectorKind.Scalar => IsKey ? "Key<UInt32>" : ItemType.ToString()!,
            VectorKind.Vector => $"Vector<{(IsKey ? "Key<UInt32>" : ItemType.ToString())}>",
            _ => $"VarVector<{(IsKey ? "Key<UInt32>" : ItemType.ToString())}>",
        };

        internal static Column FromSchemaColumn(DataViewSchema.Column column)
        {
            var (kind, item) = column.Type is VectorDataViewType v ? (v.IsKnownSize ? VectorKind.Vector : VectorKind.VariableVector, (DataViewType)v.ItemType) : (VectorKind.Scalar, column.Type);
            var isKey = item is KeyDataViewType;
            return new Column(column.Name, kind, isKey ? NumberDataViewType.UInt32 : item, isKey, column.Annotations.Kinds.ToArray());
        }
    }
}
