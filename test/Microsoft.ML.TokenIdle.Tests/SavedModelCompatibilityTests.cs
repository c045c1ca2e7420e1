using System.Text.Json;
using Microsoft.ML.Data;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// Model zips saved by earlier builds load and score as they did: each zip in <c>Data/</c> was written by
/// <c>eng/make-saved-model.cs</c> with the scores its build gave the 300 sample test images, on whatever CPU built it.
/// Those and today's scores are two float32 computations of the same network, each within
/// <see cref="NumericBounds.Probability"/> of float64 (another CPU's kernels round differently), so they agree within
/// twice that; the class must agree wherever the stored margin exceeds what both moves together could close.
/// </summary>
public sealed class SavedModelCompatibilityTests
{
    public static TheoryData<string> Saved => new() { "mlnet-5.0.1" };

    private sealed record Expected(string path, string predicted, float[] score);

    private sealed class Row
    {
        public string ImagePath { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;
    }

    [Theory]
    [MemberData(nameof(Saved))]
    public void AZipSavedByAnEarlierBuildScoresTheSampleImagesAsItDid(string name)
    {
        var data = Path.Combine(AppContext.BaseDirectory, "Data");
        var expected = JsonSerializer.Deserialize<Expected[]>(File.ReadAllText(Path.Combine(data, $"{name}.scores.json")))!;
        Assert.Equal(300, expected.Length);
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(Path.Combine(data, $"{name}.zip"), out _);
        var rows = expected.Select(e => new Row { ImagePath = Path.Combine(RepositoryPaths.FashionMnistSamples, e.path), Label = e.path.Split('/')[1] }).ToList();
        var scored = model.Transform(context.Data.LoadFromEnumerable(rows));
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var predicted = scored.GetColumn<string>("PredictedName").ToArray();
        NumericBounds.Within(nameof(NumericBounds.Probability), NumericBounds.LargestDifference(scores, expected.Select(e => e.score).ToList()), 2 * NumericBounds.Probability, $"{name}: today's scores against the stored ones");
        for (var i = 0; i < expected.Length; i++)
        {
            if (NumericBounds.Decided(expected[i].score.Select(v => (double)v), 2 * NumericBounds.Probability))
            {
                Assert.Equal(expected[i].predicted, predicted[i]);
            }
        }
    }
}
