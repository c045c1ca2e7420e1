using System.Reflection;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>Reading a loaded ML.NET model: its steps, and the error a saved component raised.</summary>
internal static class TransformerSteps
{
    /// <summary>The transformers of a model in order, nested chains opened.</summary>
    public static IEnumerable<ITransformer> Flatten(ITransformer transformer)
        => transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : new[] { transformer };

    /// <summary>
    /// The component's own error behind what ML.NET throws: it creates saved components by reflection and wraps
    /// their exceptions in a <see cref="TargetInvocationException"/> inside "Error during class instantiation".
    /// </summary>
    public static Exception Reason(Exception error)
    {
        while (error.InnerException is { } inner && (error is TargetInvocationException || error.Message == "Error during class instantiation"))
        {
            error = inner;
        }

        return error;
    }
}
