namespace Microsoft.ML.TokenIdle.Training;

/// <summary>The loss or the gradient norm stopped being finite; the weights are those before the failing step.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }
}
