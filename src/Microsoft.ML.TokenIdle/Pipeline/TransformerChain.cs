using System.Collections;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Fitted steps applied in order (ML.NET's <c>TransformerChain&lt;TLastTransformer&gt;</c>); disposing it disposes them.</summary>
public sealed class TransformerChain<TLastTransformer> : ITransformer, IEnumerable<ITransformer>, IDisposable
    where TLastTransformer : class, ITransformer
{
    private readonly ITransformer[] _transformers;

    /// <summary>A chain of <paramref name="transformers"/>; the last must be a <typeparamref name="TLastTransformer"/> (or the chain empty).</summary>
    public TransformerChain(params ITransformer[] transformers)
    {
        _transformers = transformers;
        LastTransformer = transformers.Length == 0 ? null! : transformers[^1] as TLastTransformer
            ?? throw new ArgumentException($"the last transformer is a {transformers[^1].GetType().Name}, not a {typeof(TLastTransformer).Name}");
    }

    /// <summary>The last step (for example the trained model's transformer).</summary>
    public TLastTransformer LastTransformer { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => _transformers.All(t => t.IsRowToRowMapper);

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _transformers.Aggregate(inputSchema, (schema, t) => t.GetOutputSchema(schema));

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => _transformers.Aggregate(input, (data, t) => t.Transform(data));

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        if (!IsRowToRowMapper)
        {
            throw new InvalidOperationException("a step of the chain cannot map single rows");
        }

        var mappers = new List<IRowToRowMapper>();
        var schema = inputSchema;
        foreach (var t in _transformers)
        {
            var mapper = t.GetRowToRowMapper(schema);
            mappers.Add(mapper);
            schema = mapper.OutputSchema;
        }

        return new ChainMapper(inputSchema, mappers);
    }

    /// <summary>A chain with <paramref name="next"/> appended.</summary>
    public TransformerChain<TNew> Append<TNew>(TNew next)
        where TNew : class, ITransformer => new(_transformers.Append(next).ToArray());

    /// <inheritdoc/>
    public IEnumerator<ITransformer> GetEnumerator() => ((IEnumerable<ITransformer>)_transformers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in _transformers.OfType<IDisposable>())
        {
            t.Dispose();
        }
    }

    private sealed class ChainMapper : IRowToRowMapper
    {
        private readonly List<IRowToRowMapper> _mappers;

        public ChainMapper(DataViewSchema input, List<IRowToRowMapper> mappers)
        {
            (InputSchema, _mappers) = (input, mappers);
            OutputSchema = mappers.Count == 0 ? input : mappers[^1].OutputSchema;
        }

        public DataViewSchema InputSchema { get; }

        public DataViewSchema OutputSchema { get; }

        // Every step computes all its columns: the last step's requests decide, earlier ones feed it.
        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        {
            var row = input;
            for (var i = 0; i < _mappers.Count; i++)
            {
                row = _mappers[i].GetRow(row, i == _mappers.Count - 1 ? activeColumns : _mappers[i].OutputSchema);
            }

            return row;
        }
    }
}
