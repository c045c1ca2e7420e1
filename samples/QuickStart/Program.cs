// QuickStart: finetune the embedded Fashion-MNIST ViT with token idling (IdleViT, k = 0.7) inside an ML.NET
// pipeline, compare it with the full model (ML.NET's evaluator), save the ML.NET model zip, load it back in
// a fresh MLContext and predict a few images with a prediction engine. The zip goes to artifacts/quickstart/model.zip
// (relative to the current folder), where the README's command-line examples read it.
// usage: dotnet run --project samples/QuickStart -c Release [-- DATA_FOLDER]   (default samples/data/fashion-mnist)
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.Transforms;

var data = args.Length > 0 ? args[0] : Path.Combine("samples", "data", "fashion-mnist");
var ml = new MLContext(seed: 1);
ml.Log += (_, e) =>
{
    if (e.Source.StartsWith(nameof(TokenIdleImageClassificationTrainer), StringComparison.Ordinal) && e.Kind >= ChannelMessageKind.Info)
    {
        Console.WriteLine(e.Message);
    }
};

var train = ml.Data.LoadImagesFromFolder(Path.Combine(data, "train"));
var test = ml.Data.LoadImagesFromFolder(Path.Combine(data, "test"));

// Folders are named "<class index>-<name>": keys by value give the backbone's class order.
IEstimator<ITransformer> Pipeline(IEstimator<VisionTransformerClassifier> trainer) =>
    ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
        .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
        .Append(trainer)
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));

// The embedded Fashion-MNIST backbone (Backbone.FashionMnist: no download; without it the trainers take DeiT-S from the
// Hugging Face Hub) as it is, and IdleViT finetuned from it for one epoch.
var full = Pipeline(ml.MulticlassClassification.Trainers.VisionTransformer(new VisionTransformerTrainer.Options { Backbone = Backbone.FashionMnist, MaxEpoch = 0, BatchSize = 50 })).Fit(train);
var watch = Stopwatch.StartNew();
var idle = Pipeline(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(new TokenIdleImageClassificationTrainer.Options
{
    Backbone = Backbone.FashionMnist, TokenReduction = { KeepRatio = 0.7 }, CutLossWeight = 2, BatchSize = 50, MaxEpoch = 1,
})).Fit(train);
Console.WriteLine($"finetuned with token idling (k = 0.7) on {train.GetRowCount()} images in {watch.Elapsed.TotalSeconds:F1} s");

var models = new (string Name, ITransformer Model)[] { ("full model", full), ("IdleViT k=0.7", idle) };
foreach (var (_, model) in models)
{
    ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.TakeRows(test, 50)));   // warm-up, so neither timing pays the JIT
}

foreach (var (name, model) in models)
{
    var classifier = ((IEnumerable<ITransformer>)model).OfType<VisionTransformerClassifier>().Single();
    watch.Restart();
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
    var seconds = watch.Elapsed.TotalSeconds;
    var gmacs = MacsCounter.Count(classifier.Model.Config, classifier.Reduction).PaperGMacs;
    Console.WriteLine($"{name,-14} accuracy {metrics.MicroAccuracy:P1}  log-loss {metrics.LogLoss:F3}  {gmacs:F3} GMACs  {test.GetRowCount() / seconds:F0} images/s (decoding included)");
}

var path = Path.Combine("artifacts", "quickstart", "model.zip");
Directory.CreateDirectory(Path.GetDirectoryName(path)!);
ml.Model.Save(idle, train.Schema, path);
var loaded = new MLContext().Model.Load(path, out _);
Console.WriteLine($"saved and reloaded {path} ({new FileInfo(path).Length / 1024} KiB)");
using var engine = ml.Model.CreatePredictionEngine<ImageInput, ImagePrediction>(loaded);
foreach (var row in ml.Data.CreateEnumerable<ImageInput>(test, reuseRowObject: false).Where((_, i) => i % 60 == 0))
{
    var prediction = engine.Predict(row);
    Console.WriteLine($"{Path.GetFileName(Path.GetDirectoryName(row.ImagePath))}/{Path.GetFileName(row.ImagePath)} -> {prediction.PredictedName} ({prediction.Score.Max():P0})");
}

/// <summary>An input row: an image file and its class folder.</summary>
internal sealed class ImageInput
{
    public string ImagePath { get; set; } = string.Empty;

    public string Label { get; set; } = string.Empty;
}

/// <summary>What the pipeline predicts for a row.</summary>
internal sealed class ImagePrediction
{
    public float[] Score { get; set; } = Array.Empty<float>();

    public string PredictedName { get; set; } = string.Empty;
}
