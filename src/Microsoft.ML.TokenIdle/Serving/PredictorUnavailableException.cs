namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>
/// A request the predictor cannot take now: its queue is full, or no model is loaded. The request was not scored; a
/// client may send it again after <see cref="RetryAfter"/> (a web API answers 503 with <c>Retry-After</c>).
/// </summary>
public sealed class PredictorUnavailableException : Exception
{
    /// <summary>A refusal with its reason and when to try again.</summary>
    public PredictorUnavailableException(string message, TimeSpan retryAfter, Exception? inner = null)
        : base(message, inner)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>When a client may send the request again.</summary>
    public TimeSpan RetryAfter { get; }
}
