using System.Text.Json.Serialization;

namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>A class and its probability (JSON keys <c>class</c>, <c>probability</c>).</summary>
/// <param name="Class">The class name (the label's value).</param>
/// <param name="Probability">Its softmax probability, rounded to six decimals.</param>
public sealed record ClassProbability(
    [property: JsonPropertyName("class")] string Class,
    [property: JsonPropertyName("probability")] double Probability);
