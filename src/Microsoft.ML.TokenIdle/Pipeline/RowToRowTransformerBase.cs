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
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new ColumnMapperRowMapper(MakeMapper(inputSchema));

    /// <summary>The mapper for an input schema (checking it, with ML.NET's error wording).</summary>
    private protected abstract ColumnMapper MakeMapper(DataViewSchema inputSchema);
}
