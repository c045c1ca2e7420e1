namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// A data view over columns held in memory: one array per column whose element type is the column's
/// raw type. Shuffling cursors visit a seeded permutation.
/// </summary>
internal sealed class ArrayDataView : IDataView
{
    private readonly Array[] _columns;
    private readonly int _rows;

    public ArrayDataView(DataViewSchema schema, Array[] columns)
    {
        if (columns.Length != schema.Count)
        {
            throw new ArgumentException($"{columns.Length} column arrays for a schema of {schema.Count} columns");
        }

        for (var i = 0; i < columns.Length; i++)
        {
            if (columns[i].GetType().GetElementType() != schema[i].Type.RawType)
            {
                throw new ArgumentException($"column '{schema[i].Name}' holds {columns[i].GetType().GetElementType()?.Name}, its type needs {schema[i].Type.RawType.Name}");
            }
        }

        _rows = columns.Length == 0 ? 0 : columns[0].Length;
        if (columns.Any(c => c.Length != _rows))
        {
            throw new ArgumentException("all columns must have the same number of rows");
        }

        Schema = schema;
        _columns = columns;
    }

    public bool CanShuffle => true;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int[]? order = null;
        if (rand is not null)
        {
            order = Enumerable.Range(0, _rows).ToArray();
            rand.Shuffle(order);
        }

        return new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet(), order);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ArrayDataView _view;
        private readonly HashSet<int> _active;
        private readonly int[]? _order;
        private long _position = -1;

        public Cursor(ArrayDataView view, HashSet<int> active, int[]? order) => (_view, _active, _order) = (view, active, order);

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => _view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext() => ++_position < _view._rows;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
            {
                throw SchemaErrors.InactiveColumn(column);
            }

            if (_view._columns[column.Index] is not TValue[] values)
            {
                throw SchemaErrors.InvalidGetterType(typeof(TValue), column.Type.RawType);
            }

            return (ref TValue value) =>
            {
                if (_position < 0 || _position >= _view._rows)
                {
                    throw new InvalidOperationException("the cursor is not on a row (call MoveNext first)");
                }

                value = values[_order is null ? _position : _order[_position]];
            };
        }
    }
}
