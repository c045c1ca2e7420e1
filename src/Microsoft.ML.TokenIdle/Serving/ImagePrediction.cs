using System.Text.Json.Serialization;

namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>
/// One image's prediction as <c>tokenidle predict</c> prints it: the predicted class, its probability and the most
/// probable classes. Serialised with <c>System.Text.Json</c> it has the keys <c>predicted</c>, <c>probability</c> and
/// <c>top</c> (each <c>class</c>, <c>probability</c>).
/// </summary>
/// <param name="Predicted">The most probable class.</param>
/// <param name="Probability">Its probability, rounded to six decimals.</param>
/// <param name="Top">The most probable classes, in descending order of probability.</param>
public sealed record ImagePrediction(
    [property: JsonPropertyName("predicted")] string Predicted,
    [property: JsonPropertyName("probability")] double Probability,
    [property: JsonPropertyName("top")] IReadOnlyList<ClassProbability> Top)
{
    /// <summary>The prediction for one row of class probabilities (ties keep the lower class index first).</summary>
    /// <exception cref="ArgumentException">The probabilities and the class names differ in length, or <paramref name="top"/> is below 1.</exception>
    public static ImagePrediction From(ReadOnlySpan<float> probabilities, IReadOnlyList<string> classNames, int top)
    {
        if (probabilities.Length != classNames.Count || probabilities.Length == 0)
        {
            throw new ArgumentException($"{probabilities.Length} probabilities for {classNames.Count} class names");
        }

        if (top < 1)
        {
            throw new ArgumentException($"top must be at least 1, got {top}");
        }

        var p = probabilities.ToArray();
        var ranked = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).Take(top)
            .Select(i => new ClassProbability(classNames[i], Math.Round(p[i], 6))).ToArray();
        return new ImagePrediction(ranked[0].Class, ranked[0].Probability, ranked);
    }
}
