using System.Text.Json;
using Microsoft.ML.Data;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// Model zips saved by earlier builds load and score as they did: each zip in <c>Data/</c> was written by
/// <c>eng/make-saved-model.cs</c> with the scores its build gave the 300 sample test images. Scores are compared
/// within 1e-5, not bit for bit: another CPU's kernels (AVX2, AVX-512) round differently.
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
        for (var i = 0; i < expected.Length; i++)
        {
            var largest = scores[i].Zip(expected[i].score, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(largest < 1e-5, $"{expected[i].path}: scores moved by {largest:g3}");
            var top = expected[i].score.OrderDescending().Take(2).ToArray();
            if (top[0] - top[1] > 2e-5)
            {
                Assert.Equal(expected[i].predicted, predicted[i]);
            }
        }
    }
}
