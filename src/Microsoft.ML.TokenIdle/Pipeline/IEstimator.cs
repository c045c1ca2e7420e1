namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>A step that learns from data (ML.NET's <c>IEstimator&lt;TTransformer&gt;</c>).</summary>
public interface IEstimator<out TTransformer>
    where TTransformer : ITransformer
{
    /// <summary>Trains on <paramref name="input"/> (eagerly) and returns the fitted transformer.</summary>
    TTransformer Fit(IDataView input);

    /// <summary>The columns the fitted transformer will produce from <paramref name="inputSchema"/>; throws on a schema it cannot use.</summary>
    SchemaShape GetOutputSchema(SchemaShape inputSchema);
}

/// <summary>A fitted step that maps data (ML.NET's <c>ITransformer</c>); safe to share between threads.</summary>
public interface ITransformer
{
    /// <summary>Whether single rows can be mapped (<see cref="GetRowToRowMapper"/>), as prediction engines need.</summary>
    bool IsRowToRowMapper { get; }

    /// <summary>The schema <see cref="Transform"/> would produce.</summary>
    DataViewSchema GetOutputSchema(DataViewSchema inputSchema);

    /// <summary>Maps <paramref name="input"/> lazily: checks the schema now, computes when cursors move.</summary>
    IDataView Transform(IDataView input);

    /// <summary>A row mapper for <paramref name="inputSchema"/>.</summary>
    /// <exception cref="InvalidOperationException">When <see cref="IsRowToRowMapper"/> is false.</exception>
    IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema);
}

/// <summary>Maps one input row to one output row (ML.NET's <c>IRowToRowMapper</c>).</summary>
public interface IRowToRowMapper
{
    /// <summary>The schema rows must have.</summary>
    DataViewSchema InputSchema { get; }

    /// <summary>The schema of the mapped rows.</summary>
    DataViewSchema OutputSchema { get; }

    /// <summary>The mapped view of <paramref name="input"/>; only <paramref name="activeColumns"/> are computed.</summary>
    DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns);
}
