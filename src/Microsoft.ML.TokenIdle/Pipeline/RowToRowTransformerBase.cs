namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>A transformer that adds columns computed row by row from its input's columns.</summary>
public abstract class RowToRowTransformerBase : ITransformer
{
    private protected RowToRowTransformerBase()
    {
    }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => MakeMapper(inputSchema).OutputSchema();

    /// <inheritdoc/>
    public virtual IDataView Transform(IDataView input) => new MappedDataView(input, MakeMapper(input.Schema));

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new Mapper(MakeMapper(inputSchema));

    /// <summary>The mapper for an input schema (checking it, with ML.NET's error wording).</summary>
    private protected abstract ColumnMapper MakeMapper(DataViewSchema inputSchema);

    private sealed class Mapper : IRowToRowMapper
    {
        private readonly ColumnMapper _mapper;

        public Mapper(ColumnMapper mapper)
        {
            _mapper = mapper;
            OutputSchema = mapper.OutputSchema();
        }

        public DataViewSchema InputSchema => _mapper.InputSchema;

        public DataViewSchema OutputSchema { get; }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
            => new MappedRow(input, _mapper, OutputSchema, MappedRow.ActiveSet(activeColumns));
    }
}
