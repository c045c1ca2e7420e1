// QuickStart: finetune the embedded Fashion-MNIST ViT with token idling (IdleViT, k = 0.7), compare it
// with the full model, save the pipeline, load it back and predict a few images.
// usage: dotnet run --project samples/QuickStart -c Release [-- DATA_FOLDER]   (default samples/data/fashion-mnist)
using System.Diagnostics;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Trainers;
using Microsoft.ML.TokenIdle.Pipeline.Transforms;

var data = args.Length > 0 ? args[0] : Path.Combine("samples", "data", "fashion-mnist");
var context = new MLContext(seed: 1);
context.Log += (_, e) =>
{
    if (e.Source == nameof(VisionTransformerTrainer) && e.Kind >= ChannelMessageKind.Info)
    {
        Console.WriteLine(e.Message);
    }
};

var backbone = PretrainedModels.FashionMnist();
var train = context.Data.LoadImagesFromFolder(Path.Combine(data, "train"));
var test = context.Data.LoadImagesFromFolder(Path.Combine(data, "test"));

// Folders are named "<class index>-<name>": sorting them gives the backbone's class order.
EstimatorChain<KeyToValueMappingTransformer> Pipeline(VisionTransformerTrainer trainer) =>
    context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
        .Append(context.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
        .Append(trainer)
        .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));

var full = Pipeline(context.MulticlassClassification.Trainers.VisionTransformer(new VisionTransformerTrainerOptions
{
    ConfigPath = backbone.ConfigPath, PretrainedWeightsPath = backbone.WeightsPath, MaxEpoch = 0, BatchSize = 50,
})).Fit(train);
var watch = Stopwatch.StartNew();
var idle = Pipeline(context.MulticlassClassification.Trainers.TokenIdleImageClassification(new TokenIdleImageClassificationOptions
{
    ConfigPath = backbone.ConfigPath, PretrainedWeightsPath = backbone.WeightsPath, KeepRatio = 0.7, MaxEpoch = 1, BatchSize = 50, LearningRate = 5e-5,
})).Fit(train);
Console.WriteLine($"finetuned with token idling (k = 0.7) on {train.GetRowCount()} images in {watch.Elapsed.TotalSeconds:F1} s");

var models = new (string, TransformerChain<KeyToValueMappingTransformer>)[] { ("full model", full), ("IdleViT k=0.7", idle) };
foreach (var (_, model) in models)
{
    context.Data.Cache(model.Transform(context.Data.TakeRows(test, 50)));   // warm-up, so neither timing pays the JIT
}

foreach (var (name, model) in models)
{
    var classifier = model.OfType<VisionTransformerClassifier>().Single();
    watch.Restart();
    var scored = context.Data.Cache(model.Transform(test));
    var seconds = watch.Elapsed.TotalSeconds;
    var metrics = context.MulticlassClassification.Evaluate(scored);
    var gmacs = MacsCounter.Count(classifier.Model.Config, classifier.Strategy).PaperGMacs;
    Console.WriteLine($"{name,-14} accuracy {metrics.MicroAccuracy:P1}  log-loss {metrics.LogLoss:F3}  {gmacs:F3} GMACs  {test.GetRowCount() / seconds:F0} images/s (decoding included)");
}

var path = Path.Combine(Path.GetTempPath(), "tokenidle-quickstart.zip");
context.Model.Save(idle, train.Schema, path);
var loaded = context.Model.Load(path, out _);
Console.WriteLine($"saved and reloaded {path} ({new FileInfo(path).Length / 1024} KiB)");
using var engine = context.Model.CreatePredictionEngine<ImageInput, ImagePrediction>(loaded);
foreach (var row in context.Data.CreateEnumerable<ImageInput>(test, reuseRowObject: false).Where((_, i) => i % 60 == 0))
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
