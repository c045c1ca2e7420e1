namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>Reads one column of a cursor's current row as an object (for binding rows to classes, not for numeric inner loops).</summary>
internal abstract class ColumnReader
{
    public abstract object? Read();

    public static ColumnReader Create(DataViewRow row, DataViewSchema.Column column)
        => (ColumnReader)Activator.CreateInstance(typeof(Typed<>).MakeGenericType(column.Type.RawType), row, column)!;

    private sealed class Typed<T> : ColumnReader
    {
        private readonly ValueGetter<T> _getter;

        public Typed(DataViewRow row, DataViewSchema.Column column) => _getter = row.GetGetter<T>(column);

        public override object? Read()
        {
            T value = default!;
            _getter(ref value);
            return value;
        }
    }
}
