using Microsoft.ML.TokenIdle.Serving;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="BatchingPredictor"/> in a host's services (ASP.NET Core, a worker service).</summary>
public static class TokenIdleServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="BatchingPredictor"/> for the model zip at <paramref name="modelPath"/> as a singleton: made
    /// on first use (resolve it at start-up to load the model before the first request), disposed with the host.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="modelPath">The ML.NET model zip (a relative path is taken from the working folder when the predictor is made).</param>
    /// <param name="configure">Sets the batching options (batch size, wait, queue bound, threads, precision, reload).</param>
    public static IServiceCollection AddTokenIdlePredictor(this IServiceCollection services, string modelPath, Action<BatchingPredictorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var options = new BatchingPredictorOptions();
        configure?.Invoke(options);
        return services.AddSingleton(_ => new BatchingPredictor(modelPath, options));
    }
}
