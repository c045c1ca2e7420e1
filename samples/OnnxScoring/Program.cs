// Scores images with a token-reduction ViT exported to ONNX, in a plain ML.NET pipeline that knows nothing of
// Microsoft.ML.TokenIdle: LoadImages → ResizeImages → ExtractPixels → ApplyOnnxModel, saved as an ML.NET model
// zip and loaded back. Export the model first with RGB/gray values 0–255 as input (the graph normalises):
//   tokenidle export-onnx --config config.json --weights model.safetensors --method idle --keep-rate 0.7 \
//       --input-pixels bytes --output model.onnx
// Usage: dotnet run --project samples/OnnxScoring -- model.onnx IMAGE_FOLDER [model.zip]
// IMAGE_FOLDER holds one subfolder per class whose name starts with the class index ("3-dress"); prints one JSON
// line with the accuracy, and exits 1 when the reloaded zip scores differently.
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Image;

if (args.Length is < 2 or > 3)
{
    Console.Error.WriteLine("usage: OnnxScoring model.onnx IMAGE_FOLDER [model.zip]");
    return 2;
}

var (onnxPath, folder) = (args[0], args[1]);
var zipPath = args.Length == 3 ? args[2] : Path.Combine(Path.GetTempPath(), "onnx-scoring.zip");

// The exporter records what the graph expects in the model's metadata; ONNX Runtime reads it.
int channels, size;
string inputName;
IReadOnlyDictionary<string, string> metadata;
using (var session = new InferenceSession(onnxPath))
{
    metadata = session.ModelMetadata.CustomMetadataMap;
    (inputName, var input) = session.InputMetadata.Single();
    (channels, size) = (input.Dimensions[1], input.Dimensions[2]);
}

if (metadata.GetValueOrDefault("input_pixels") != "Bytes")
{
    Console.Error.WriteLine($"'{onnxPath}' takes {metadata.GetValueOrDefault("input_pixels", "normalised")} pixels; export it with --input-pixels bytes");
    return 2;
}

var rows = Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal)
    .SelectMany(d => Directory.GetFiles(d).Select(f => new ImageRow { ImagePath = f, Label = int.Parse(Path.GetFileName(d).Split('-')[0]) }))
    .ToList();
var ml = new MLContext(seed: 1);
var data = ml.Data.LoadFromEnumerable(rows);

// ML.NET's resize does not antialias as timm does: images of the model's size (here 28×28) pass unchanged.
var pipeline = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageRow.ImagePath))
    .Append(ml.Transforms.ResizeImages("Image", size, size, "Image"))
    .Append(ml.Transforms.ExtractPixels(inputName, "Image", colorsToExtract: channels == 1 ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb))
    .Append(ml.Transforms.ApplyOnnxModel(new[] { "probabilities" }, new[] { inputName }, onnxPath));
using var model = pipeline.Fit(data);
ml.Model.Save(model, data.Schema, zipPath);
// A model loaded from a zip keeps its ONNX bytes in a temporary file until the transformer is disposed.
using var loaded = (TransformerChain<ITransformer>)ml.Model.Load(zipPath, out _);

float[][] Probabilities(ITransformer transformer) => transformer.Transform(data).GetColumn<float[]>("probabilities").ToArray();
var scores = Probabilities(model);
var reloaded = Probabilities(loaded);
var correct = rows.Where((row, i) => Array.IndexOf(scores[i], scores[i].Max()) == row.Label).Count();
var same = scores.Zip(reloaded).All(p => p.First.SequenceEqual(p.Second));
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["model"] = onnxPath,
    ["method"] = metadata.GetValueOrDefault("method", "?"),
    ["images"] = rows.Count,
    ["accuracy"] = Math.Round((double)correct / rows.Count, 4),
    ["zip"] = zipPath,
    ["reloaded_zip_scores_identically"] = same,
}));
return same ? 0 : 1;

/// <summary>An image file and its class index.</summary>
internal sealed class ImageRow
{
    public string ImagePath { get; set; } = string.Empty;

    public int Label { get; set; }
}
