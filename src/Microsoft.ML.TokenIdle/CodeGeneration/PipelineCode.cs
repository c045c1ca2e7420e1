using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.TokenIdle.CodeGeneration;

/// <summary>
/// The estimator pipeline that made a saved model, as C#: one catalog call per step of its transformer chain —
/// ML.NET's key mapping, column copying and concatenation, image loading, resizing and pixel extraction, and this
/// library's trainers with their saved options. A step without a generator becomes a comment saying so.
/// </summary>
internal static class PipelineCode
{
    /// <summary>The body of <c>BuildPipeline(MLContext mlContext)</c>: <c>var pipeline = …;</c>, indented by <paramref name="indent"/>.</summary>
    public static string Build(IReadOnlyList<ITransformer> steps, DataViewSchema inputSchema, string indent)
    {
        var calls = new List<string>();
        var schema = inputSchema;
        foreach (var step in steps)
        {
            calls.AddRange(Calls(step, schema, indent));
            schema = step.GetOutputSchema(schema);
        }

        // The first call starts the chain; a step without a generator leaves a comment in its place.
        var start = calls.FindIndex(c => !c.StartsWith("//", StringComparison.Ordinal));
        var lines = new List<string> { start < 0 ? "new EstimatorChain<ITransformer>()" : calls[start] };
        lines.AddRange(calls.Where((_, i) => i != start).Select(c => c.StartsWith("//", StringComparison.Ordinal) ? c : $".Append({c})"));
        var code = new StringBuilder($"{indent}var pipeline = {lines[0]}");
        foreach (var line in lines.Skip(1))
        {
            code.Append($"\n{indent}    {line}");
        }

        return code.Append(lines[^1].StartsWith("//", StringComparison.Ordinal) ? $"\n{indent}    ;\n" : ";\n").ToString();
    }

    private static IEnumerable<string> Calls(ITransformer step, DataViewSchema input, string indent) => step switch
    {
        ValueToKeyMappingTransformer keys => keys.ColumnPairs.Select(p => Invariant($"mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: {Quote(p.outputColumnName)}, inputColumnName: {Quote(p.inputColumnName)}, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.{Ordinality(keys, input, p.outputColumnName)})")),
        KeyToValueMappingTransformer values => values.ColumnPairs.Select(p => Invariant($"mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: {Quote(p.outputColumnName)}, inputColumnName: {Quote(p.inputColumnName)})")),
        ColumnCopyingTransformer copies => copies.ColumnPairs.Select(p => Invariant($"mlContext.Transforms.CopyColumns(outputColumnName: {Quote(p.outputColumnName)}, inputColumnName: {Quote(p.inputColumnName)})")),
        ColumnConcatenatingTransformer concatenation => concatenation.Columns.Select(c => Invariant($"mlContext.Transforms.Concatenate({Quote(c.outputColumnName)}, {string.Join(", ", c.inputColumnNames.Select(Quote))})")),
        ImageLoadingTransformer loader => loader.ColumnPairs.Select(p => Invariant(
            $"mlContext.Transforms.{(loader.GetOutputSchema(input)[p.outputColumnName].Type is ImageDataViewType ? "LoadImages" : "LoadRawImageBytes")}(outputColumnName: {Quote(p.outputColumnName)}, imageFolder: {Quote(loader.ImageFolder)}, inputColumnName: {Quote(p.inputColumnName)})")),
        ImageResizingTransformer resizer => resizer.Columns.Select(c => Invariant(
            $"mlContext.Transforms.ResizeImages(outputColumnName: {Quote(c.Name)}, imageWidth: {c.ImageWidth}, imageHeight: {c.ImageHeight}, inputColumnName: {Quote(c.InputColumnName)}, resizing: {CSharpLiteral.Of(c.Resizing)}, cropAnchor: {CSharpLiteral.Of(c.Anchor)})")),
        ImagePixelExtractingTransformer pixels => pixels.Columns.Select(c => Invariant(
            $"mlContext.Transforms.ExtractPixels(outputColumnName: {Quote(c.Name)}, inputColumnName: {Quote(c.InputColumnName)}, colorsToExtract: {CSharpLiteral.Of(c.ColorsToExtract)}, orderOfExtraction: {CSharpLiteral.Of(c.OrderOfExtraction)}, interleavePixelColors: {CSharpLiteral.Of(c.InterleavePixelColors)}, offsetImage: {CSharpLiteral.Of(c.OffsetImage)}, scaleImage: {CSharpLiteral.Of(c.ScaleImage)}, outputAsFloatArray: {CSharpLiteral.Of(c.OutputAsFloatArray)})")),
        VisionTransformerClassifier classifier => classifier.Recipe is { } recipe
            ? new[] { OptionsCode.TrainerCall(recipe, indent + "    ") }.Concat(ScoredWith(classifier, recipe))
            : new[] { $"// {classifier.Method} ViT classifier: saved without its trainer's options (an older zip); add its trainer here." },
        _ => new[] { $"// {step.GetType().Name}: this step has no code generator; add the estimator that made it here." },
    };

    // A classifier given another reduction after training: the generated pipeline trains what its trainer trains, and says
    // how the saved model scores.
    private static IEnumerable<string> ScoredWith(VisionTransformerClassifier classifier, Components.TrainerRecipe recipe)
        => ReductionCode.WithTokenReductionCall(classifier, OptionsCode.Options(recipe)) is { } call
            ? new[] { $"// the saved model scores with {classifier.Method}, given after training: on the fitted classifier, {call}" }
            : Array.Empty<string>();

    // ML.NET does not keep the key order's origin: values in sorted order are taken as ByValue, which gives
    // the same keys on any data; otherwise ByOccurrence.
    private static string Ordinality(ValueToKeyMappingTransformer keys, DataViewSchema input, string column)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        var output = keys.GetOutputSchema(input)[column];
        if (output.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues)?.Type is not VectorDataViewType { ItemType: TextDataViewType })
        {
            return nameof(ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence);
        }

        output.GetKeyValues(ref values);
        var texts = values.DenseValues().Select(v => v.ToString()).ToList();
        return texts.SequenceEqual(texts.Order(StringComparer.Ordinal)) ? nameof(ValueToKeyMappingEstimator.KeyOrdinality.ByValue) : nameof(ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence);
    }

    private static string Quote(string? text) => CSharpLiteral.Of(text);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
