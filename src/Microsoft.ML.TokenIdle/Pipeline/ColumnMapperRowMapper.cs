namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>The single-row mapper of any <see cref="ColumnMapper"/> (what prediction engines use).</summary>
internal sealed class ColumnMapperRowMapper : IRowToRowMapper
{
    private readonly ColumnMapper _mapper;

    public ColumnMapperRowMapper(ColumnMapper mapper)
    {
        _mapper = mapper;
        OutputSchema = mapper.OutputSchema();
    }

    public DataViewSchema InputSchema => _mapper.InputSchema;

    public DataViewSchema OutputSchema { get; }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        => new MappedRow(input, _mapper, OutputSchema, MappedRow.ActiveSet(activeColumns));
}
