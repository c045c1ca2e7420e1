using System.Text.Json;
using Microsoft.ML.Data;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// The library as an application uses it: the exact pipeline shape of the README (ML.NET transforms around our
/// trainer, ML.NET's evaluator and model zip), then a separate process — the consumption project
/// <c>tokenidle generate</c> writes, built here — that loads the zip with a fresh MLContext and scores with a
/// prediction engine, calling no code of ours: its scores equal this process's Transform.
/// </summary>
public sealed class UserApplicationTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("user-app");

    public void Dispose() => _dir.Delete(recursive: true);

    public sealed class Row
    {
        public string ImagePath { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public string PredictedName { get; set; } = string.Empty;
    }

    private static List<Row> Rows(string split, int perClass)
        => Directory.GetDirectories(Path.Combine(RepositoryPaths.FashionMnistSamples, split)).Order(StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).Take(perClass).Select(f => new Row { ImagePath = f, Label = Path.GetFileName(d) }))
            .ToList();

    [Fact]
    public void TheReadmeShapeTrainsEvaluatesSavesAndAnotherProcessScoresTheSame()
    {
        var rows = Rows("train", 10);
        var testRows = Rows("test", 3);

        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(rows);
        IDataView test = ml.Data.LoadFromEnumerable(testRows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(new TokenIdleImageClassificationTrainer.Options
            {
                Backbone = Backbone.FashionMnist, TokenReduction = { KeepRatio = 0.7 }, CutLossWeight = 2, LabelColumnName = "Label", ImageColumnName = "Image",
                BatchSize = 50, MaxEpoch = 1,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        var model = pipeline.Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.True(metrics.MicroAccuracy > 0.5, $"the embedded backbone finetuned on 100 images scores {metrics.MicroAccuracy:P1}");
        var zip = Path.Combine(_dir.FullName, "model.zip");
        ml.Model.Save(model, train.Schema, zip);
        var expected = ml.Data.CreateEnumerable<Prediction>(model.Transform(test), reuseRowObject: false).ToList();

        // Model Builder-style consumption code, compiled as its own project against this build of the library.
        var library = Path.Combine(AppContext.BaseDirectory, "Microsoft.ML.TokenIdle.dll");
        var project = Path.Combine(_dir.FullName, "app");
        var (code, stdout, stderr) = Cli.CliRunner.Run("generate", "--model", zip, "--name", "FashionClassifier", "--output", project, "--library", library);
        Assert.True(code == 0, stderr);
        var training = File.ReadAllText(Path.Combine(project, "FashionClassifier.training.cs"));
        Assert.Contains("mlContext.MulticlassClassification.Trainers.TokenIdleImageClassification(new TokenIdleImageClassificationTrainer.Options", training);
        Assert.Contains("CutLossWeight = 2d,", training);
        Assert.Contains("Backbone = Backbone.FashionMnist,", training);
        Assert.Contains("LoadImages(outputColumnName: @\"Image\", imageFolder: null, inputColumnName: @\"ImagePath\")", training);
        ProcessRunner.Run("dotnet", project, "build", "-c", "Release", "-o", Path.Combine(project, "out"), "-nologo");
        var output = ProcessRunner.Run("dotnet", project, new[] { Path.Combine(project, "out", "FashionClassifierApp.dll") }.Concat(testRows.Select(r => r.ImagePath)).ToArray());

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(testRows.Count, lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var scores = lines[i].GetProperty("score").EnumerateArray().Select(s => s.GetSingle()).ToArray();
            Assert.Equal(expected[i].Score.Length, scores.Length);
            // The generated app scores each image alone, the test as a batch: two float32 paths, each within the probability bound of float64.
            NumericBounds.Within(nameof(NumericBounds.Probability), NumericBounds.LargestDifference(new[] { scores }, new[] { expected[i].Score }), 2 * NumericBounds.Probability, $"image {i}: the generated app's scores against the training process's");
            if (NumericBounds.Decided(expected[i].Score.Select(v => (double)v), 2 * NumericBounds.Probability))
            {
                Assert.Equal(expected[i].PredictedName, lines[i].GetProperty("predicted").GetString());
            }
        }
    }
}
