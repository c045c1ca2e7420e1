using Microsoft.ML.Data;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// How a saved model takes an image from its input row: a path column read by its <c>LoadImages</c> or
/// <c>LoadRawImageBytes</c> step, or the encoded file bytes in the classifier's own input column.
/// </summary>
/// <param name="Column">The input column.</param>
/// <param name="EncodedBytes">True: the column holds the file's bytes; false: its path.</param>
internal sealed record ImageInput(string Column, bool EncodedBytes)
{
    /// <summary>The image input of a model whose flattened steps are <paramref name="steps"/>.</summary>
    /// <exception cref="InvalidDataException">The model takes its images neither way.</exception>
    public static ImageInput Of(IReadOnlyList<ITransformer> steps, DataViewSchema input, VisionTransformerClassifier classifier, string modelPath)
    {
        if (InputRows.ImagePathColumn(steps) is { } pathColumn && input.GetColumnOrNull(pathColumn) is { Type: TextDataViewType })
        {
            return new ImageInput(pathColumn, false);
        }

        if (input.GetColumnOrNull(classifier.ImageColumnName) is { Type: VectorDataViewType { ItemType: var item, IsKnownSize: false } } && item == NumberDataViewType.Byte)
        {
            return new ImageInput(classifier.ImageColumnName, true);
        }

        throw new InvalidDataException($"model '{modelPath}' takes its images neither from a path column loaded by LoadImages/LoadRawImageBytes nor as encoded bytes in its input column '{classifier.ImageColumnName}'");
    }
}
