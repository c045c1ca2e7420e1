using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Trainers;

namespace Microsoft.ML.TokenIdle.Cli.Commands;

/// <summary>A pipeline zip loaded for a verb: the model, its input schema, its steps (nested chains opened) and its classifier.</summary>
internal sealed record SavedModel(ITransformer Model, DataViewSchema? InputSchema, IReadOnlyList<ITransformer> Steps, VisionTransformerClassifier Classifier)
{
    /// <exception cref="InvalidDataException">The zip is unreadable or has no image classifier step.</exception>
    public static SavedModel Load(string path)
    {
        var model = new MLContext().Model.Load(path, out var schema);
        var steps = Flatten(model).ToList();
        var classifier = steps.OfType<VisionTransformerClassifier>().FirstOrDefault()
            ?? throw new InvalidDataException($"model '{path}' has no image classifier step");
        return new SavedModel(model, schema, steps, classifier);
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer)
        => transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : new[] { transformer };
}
