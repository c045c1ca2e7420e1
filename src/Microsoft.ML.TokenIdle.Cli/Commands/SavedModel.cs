using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Components;

namespace TokenIdle.Cli.Commands;

/// <summary>An ML.NET model zip loaded for a verb: the model, its input schema, its steps (nested chains opened) and its ViT classifier.</summary>
internal sealed record SavedModel(MLContext Context, ITransformer Model, DataViewSchema? InputSchema, IReadOnlyList<ITransformer> Steps, VisionTransformerClassifier Classifier)
{
    /// <summary>Loads the zip; its classifier runs in <paramref name="precision"/> when given, else as it was saved.</summary>
    /// <exception cref="InvalidDataException">The zip has no ViT classifier step.</exception>
    public static SavedModel Load(string path, Precision? precision = null)
    {
        var context = new MLContext();
        var model = ModelZip.Load(context, path, out var schema);
        var steps = TransformerSteps.Flatten(model).ToList();
        var classifier = steps.OfType<VisionTransformerClassifier>().FirstOrDefault()
            ?? throw new InvalidDataException($"model '{path}' has no ViT classifier step");
        if (precision is { } p)
        {
            classifier.SetPrecision(p);
        }

        return new SavedModel(context, model, schema, steps, classifier);
    }

    /// <summary>
    /// The zip scored with the method <paramref name="method"/>'s flags choose instead of its own (the classifier's
    /// <see cref="VisionTransformerClassifier.WithTokenReduction"/>, the other steps as they are) when <c>--method</c> is
    /// typed; as saved otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">A method flag without <c>--method</c>, or one that does not fit the method or the model.</exception>
    public SavedModel WithMethodOf(System.CommandLine.ParseResult result, MethodSource method)
    {
        if (method.Typed(result) is not { } options)
        {
            return this;
        }

        var reduced = Classifier.WithTokenReduction(options(Classifier.Model.Config));
        var steps = Steps.Select(s => ReferenceEquals(s, Classifier) ? reduced : s).ToList();
        return new SavedModel(Context, new TransformerChain<ITransformer>(steps.ToArray()), InputSchema, steps, reduced);
    }
}
