using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Onnx;

namespace Microsoft.ML.TokenIdle.Tests.Onnx;

/// <summary>An exported RGB model scored by ML.NET's own image transforms and ApplyOnnxModel gives the classifier's scores.</summary>
public sealed class ApplyOnnxModelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("onnx-rgb").FullName;

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = string.Empty;

        public uint Label { get; set; }
    }

    public sealed class Scores
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        [ColumnName("probabilities")]
        public float[] Probabilities { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void MlNetsExtractPixelsAndApplyOnnxModelGiveTheClassifiersScoresOnRgbImages()
    {
        // Images of the model's size (no resize on either side) whose three channels differ, so a swapped channel order would show.
        var set = FixtureSet.Get("micro");
        var size = set.Config.ImageSize;
        var random = new Random(5);
        var rows = Enumerable.Range(0, 4).Select(i =>
        {
            var pixels = new byte[size * size * 3];
            for (var p = 0; p < pixels.Length; p++)
            {
                pixels[p] = (byte)(p % 3 == 0 ? random.Next(256) : p % 3 == 1 ? random.Next(64) : 200 + random.Next(56));
            }

            var path = Path.Combine(_folder, $"{i}.png");
            PngEncoder.Save(new PixelImage(size, size, 3, pixels), path);
            return new ImageRow { ImagePath = path, Label = 1 };
        }).ToList();

        var context = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(ImageRow));
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), set.Config.NumClasses);
        var data = context.Transforms.LoadImages("Image", null, "ImagePath").Fit(context.Data.LoadFromEnumerable(rows, definition)).Transform(context.Data.LoadFromEnumerable(rows, definition));
        var options = new TokenIdleImageClassificationTrainer.Options { Backbone = Backbone.Files(set.ConfigPath, set.WeightsPath), MaxEpoch = 0, TokenReduction = { KeepRatio = 0.5 } };
        var classifier = context.MulticlassClassification.Trainers.TokenIdleImageClassification(options).Fit(data);
        var expected = context.Data.CreateEnumerable<Scores>(classifier.Transform(data), false, ignoreMissingColumns: true).ToList();

        var onnx = Path.Combine(_folder, "idle.onnx");
        using (var file = File.Create(onnx))
        {
            classifier.ExportToOnnx(file, new OnnxExportOptions { InputPixels = OnnxInputPixels.Bytes });
        }

        // ExtractPixels needs a known-size image column: ResizeImages to the size the images already have.
        var scoring = context.Transforms.ResizeImages("Sized", size, size, "Image")
            .Append(context.Transforms.ExtractPixels("pixels", "Sized"))
            .Append(context.Transforms.ApplyOnnxModel(new[] { "probabilities" }, new[] { "pixels" }, onnx, fallbackToCpu: true))
            .Fit(data);
        var actual = context.Data.CreateEnumerable<Scores>(scoring.Transform(data), false, ignoreMissingColumns: true).ToList();
        Assert.Equal(rows.Count, actual.Count);

        // Two float32 paths (TorchSharp in the classifier, ONNX Runtime after ML.NET's pixels): each within float32 rounding of the float64 run.
        var exact = Float64Reference.Probabilities(classifier.Model, classifier.Reduction, Float64Reference.ExactInputs(set.Config, rows.Select(r => r.ImagePath)));
        NumericBounds.Within(nameof(NumericBounds.Probability), NumericBounds.LargestDifference(expected.Select(e => e.Score).ToList(), exact), NumericBounds.Probability, "the classifier's scores against float64");
        NumericBounds.Within(nameof(NumericBounds.Probability), NumericBounds.LargestDifference(actual.Select(a => a.Probabilities).ToList(), exact), NumericBounds.Probability, "ApplyOnnxModel's probabilities against float64");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
