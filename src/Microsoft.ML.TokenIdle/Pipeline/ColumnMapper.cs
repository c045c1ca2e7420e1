namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// The per-row logic of a row-to-row transformer bound to an input schema: which columns it adds,
/// which input columns they read, and getters that compute them for the current input row.
/// </summary>
internal abstract class ColumnMapper
{
    protected ColumnMapper(DataViewSchema inputSchema) => InputSchema = inputSchema;

    public DataViewSchema InputSchema { get; }

    /// <summary>The added columns, in order.</summary>
    public abstract IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

    /// <summary>The input columns the active outputs read.</summary>
    public abstract IEnumerable<DataViewSchema.Column> Dependencies(Func<int, bool> isOutputActive);

    /// <summary>A <c>ValueGetter&lt;T&gt;</c> per output (null where inactive) reading <paramref name="input"/>'s current row.</summary>
    public abstract Delegate?[] MakeGetters(DataViewRow input, Func<int, bool> isOutputActive);

    /// <summary>The input schema followed by the added columns (which hide input columns of the same name).</summary>
    public DataViewSchema OutputSchema()
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(InputSchema);
        builder.AddColumns(OutputColumns);
        return builder.ToSchema();
    }
}
