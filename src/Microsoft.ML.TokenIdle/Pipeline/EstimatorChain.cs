namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Estimators fitted in order, each on the previous ones' output (ML.NET's <c>EstimatorChain&lt;TLastTransformer&gt;</c>).</summary>
public sealed class EstimatorChain<TLastTransformer> : IEstimator<TransformerChain<TLastTransformer>>
    where TLastTransformer : class, ITransformer
{
    private readonly IEstimator<ITransformer>[] _estimators;

    /// <summary>An empty chain.</summary>
    public EstimatorChain()
        : this(Array.Empty<IEstimator<ITransformer>>())
    {
    }

    private EstimatorChain(IEstimator<ITransformer>[] estimators) => _estimators = estimators;

    /// <summary>The chain with <paramref name="estimator"/> appended.</summary>
    public EstimatorChain<TNew> Append<TNew>(IEstimator<TNew> estimator)
        where TNew : class, ITransformer => new(_estimators.Append((IEstimator<ITransformer>)estimator).ToArray());

    /// <summary>Fits every step on the data transformed by the steps before it.</summary>
    public TransformerChain<TLastTransformer> Fit(IDataView input)
    {
        GetOutputSchema(SchemaShape.Create(input.Schema));
        var fitted = new List<ITransformer>();
        var data = input;
        foreach (var estimator in _estimators)
        {
            var transformer = estimator.Fit(data);
            fitted.Add(transformer);
            data = transformer.Transform(data);
        }

        return new TransformerChain<TLastTransformer>(fitted.ToArray());
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _estimators.Aggregate(inputSchema, (shape, e) => e.GetOutputSchema(shape));
}

/// <summary>Starts chains from single estimators, as ML.NET's <c>Append</c> extension does.</summary>
public static class EstimatorChainExtensions
{
    /// <summary><paramref name="start"/> followed by <paramref name="next"/>.</summary>
    public static EstimatorChain<TNext> Append<TNext>(this IEstimator<ITransformer> start, IEstimator<TNext> next)
        where TNext : class, ITransformer => new EstimatorChain<ITransformer>().Append(start).Append(next);
}
