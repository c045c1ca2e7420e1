namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>A lazy view that adds a <see cref="ColumnMapper"/>'s columns to its source's rows.</summary>
internal sealed class MappedDataView : IDataView
{
    private readonly IDataView _source;
    private readonly ColumnMapper _mapper;

    public MappedDataView(IDataView source, ColumnMapper mapper)
    {
        (_source, _mapper) = (source, mapper);
        Schema = mapper.OutputSchema();
    }

    public bool CanShuffle => _source.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = MappedRow.ActiveSet(columnsNeeded);
        var inputs = MappedRow.InputsNeeded(_mapper, active);
        return new Cursor(_source.GetRowCursor(inputs, rand), _mapper, Schema, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly DataViewRowCursor _input;
        private readonly MappedRow _row;

        public Cursor(DataViewRowCursor input, ColumnMapper mapper, DataViewSchema schema, HashSet<int> active)
        {
            _input = input;
            _row = new MappedRow(input, mapper, schema, active);
        }

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override DataViewSchema Schema => _row.Schema;

        public override bool MoveNext() => _input.MoveNext();

        public override bool IsColumnActive(DataViewSchema.Column column) => _row.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _row.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _input.Dispose();
            }
        }
    }
}

/// <summary>An input row seen through a <see cref="ColumnMapper"/>: input columns pass through, added ones are computed.</summary>
internal sealed class MappedRow : DataViewRow
{
    private readonly DataViewRow _input;
    private readonly HashSet<int> _active;
    private readonly Delegate?[] _outputs;
    private readonly int _inputCount;

    public MappedRow(DataViewRow input, ColumnMapper mapper, DataViewSchema schema, HashSet<int> active)
        : this(input, mapper.InputSchema.Count, schema, active, mapper.MakeGetters(input, i => active.Contains(mapper.InputSchema.Count + i)))
    {
    }

    /// <summary>A row whose added columns' getters are already made (index i: column <paramref name="inputCount"/> + i).</summary>
    public MappedRow(DataViewRow input, int inputCount, DataViewSchema schema, HashSet<int> active, Delegate?[] outputs)
        => (_input, _inputCount, Schema, _active, _outputs) = (input, inputCount, schema, active, outputs);

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override DataViewSchema Schema { get; }

    /// <summary>The indices of the requested columns.</summary>
    public static HashSet<int> ActiveSet(IEnumerable<DataViewSchema.Column> columns) => columns.Select(c => c.Index).ToHashSet();

    /// <summary>The input columns to activate: requested pass-through columns and the dependencies of requested outputs.</summary>
    public static IEnumerable<DataViewSchema.Column> InputsNeeded(ColumnMapper mapper, HashSet<int> active)
    {
        var count = mapper.InputSchema.Count;
        return mapper.InputSchema.Where(c => active.Contains(c.Index))
            .Concat(mapper.Dependencies(i => active.Contains(count + i)))
            .DistinctBy(c => c.Index)
            .ToList();
    }

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!IsColumnActive(column))
        {
            throw SchemaErrors.InactiveColumn(column);
        }

        if (column.Index < _inputCount)
        {
            return _input.GetGetter<TValue>(_input.Schema[column.Index]);
        }

        return _outputs[column.Index - _inputCount] as ValueGetter<TValue>
            ?? throw SchemaErrors.InvalidGetterType(typeof(TValue), column.Type.RawType);
    }
}
