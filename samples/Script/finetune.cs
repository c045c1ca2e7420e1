#!/usr/bin/env dotnet
#:package Microsoft.ML@6.0.0
#:package Microsoft.ML.ImageAnalytics@6.0.0
#:package libtorch-cpu-linux-x64@2.10.0
#:project ../../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:property PublishAot=false
// The shortest path for a script user: finetune the embedded Fashion-MNIST ViT with token idling (IdleViT) on
// an image folder (one sub-folder per class, for both splits), evaluate it with ML.NET and save the model zip.
// usage: dotnet run samples/Script/finetune.cs [-- DATA_FOLDER [MODEL.zip]]   (default samples/data/fashion-mnist, model.zip)
// File-based apps default to native AOT, which turns reflection off; ML.NET needs it, hence PublishAot=false.
using Microsoft.ML;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.Transforms;

var data = args.Length > 0 ? args[0] : Path.Combine("samples", "data", "fashion-mnist");
var output = args.Length > 1 ? args[1] : "model.zip";
if (args.Length > 2)
{
    Console.Error.WriteLine("usage: dotnet run samples/Script/finetune.cs -- [DATA_FOLDER [MODEL.zip]]");
    return 2;
}

// One line for a folder of another layout, rather than ML.NET's exception from an empty or missing folder.
if (new[] { "train", "test" }.FirstOrDefault(split => !Directory.Exists(Path.Combine(data, split))) is { } missing)
{
    Console.Error.WriteLine($"finetune.cs: '{data}' has no '{missing}' folder: DATA_FOLDER holds train/ and test/, each with one sub-folder of images per class");
    return 1;
}

var ml = new MLContext(seed: 1);
var train = ml.Data.LoadImagesFromFolder(Path.Combine(data, "train"));
var test = ml.Data.LoadImagesFromFolder(Path.Combine(data, "test"));

var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
    .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(new TokenIdleImageClassificationTrainer.Options
    {
        // The embedded Fashion-MNIST ViT (no download); without a backbone named, the trainer takes DeiT-S from the Hub.
        Backbone = Backbone.FashionMnist, TokenReduction = { KeepRatio = 0.7 }, CutLossWeight = 2, BatchSize = 50, MaxEpoch = 1,
    }))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
var model = pipeline.Fit(train);
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
Console.WriteLine($"IdleViT k = 0.7: accuracy {metrics.MicroAccuracy:P1}, macro {metrics.MacroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
ml.Model.Save(model, train.Schema, output);
Console.WriteLine($"saved {Path.GetFullPath(output)}");
return 0;
