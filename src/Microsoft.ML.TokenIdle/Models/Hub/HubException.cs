namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>A checkpoint could not be had from the Hub or its cache; the message is one line that names the repository, the file and what to do.</summary>
public sealed class HubException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
