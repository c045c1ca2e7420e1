namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>An estimator with nothing to learn: fitting checks the schema and returns its transformer (ML.NET's <c>TrivialEstimator</c>).</summary>
public abstract class TrivialEstimator<TTransformer> : IEstimator<TTransformer>
    where TTransformer : class, ITransformer
{
    private readonly TTransformer _transformer;

    private protected TrivialEstimator(TTransformer transformer) => _transformer = transformer;

    /// <inheritdoc/>
    public TTransformer Fit(IDataView input)
    {
        _transformer.GetOutputSchema(input.Schema);
        return _transformer;
    }

    /// <inheritdoc/>
    public abstract SchemaShape GetOutputSchema(SchemaShape inputSchema);
}
