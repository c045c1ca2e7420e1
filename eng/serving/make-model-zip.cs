#!/usr/bin/env dotnet
#:package Microsoft.ML@6.0.0
#:package Microsoft.ML.ImageAnalytics@6.0.0
#:package libtorch-cpu-linux-x64@2.10.0
#:project ../../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:property PublishAot=false
// Model zips for the serving checks and benchmarks (eng/serving/): the README's pipeline (label to key, LoadImages from
// a path column, the classifier, key to name) fitted on the Fashion-MNIST sample images and saved with its input schema.
//   fashion-mnist METHOD   the embedded Fashion-MNIST ViT as it is (no training)
//   deit-small METHOD      DeiT-S at 224 px from random weights after one training step of 32 images
// METHOD: full, or idle | evit-fuse | life at k = 0.7 (IdleViT, EViT with fusion, life regression; life regression's
// predictor is untrained on the Fashion-MNIST model, trained one step on DeiT-S).
// usage: dotnet run eng/serving/make-model-zip.cs -- OUTPUT.zip fashion-mnist|deit-small METHOD [DATA_FOLDER]
using Microsoft.ML;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.Transforms;

if (args.Length is < 3 or > 4 || args[1] is not ("fashion-mnist" or "deit-small") || args[2] is not ("full" or "idle" or "evit-fuse" or "life"))
{
    Console.Error.WriteLine("usage: dotnet run eng/serving/make-model-zip.cs -- OUTPUT.zip fashion-mnist|deit-small full|idle|evit-fuse|life [DATA_FOLDER]");
    return 2;
}

var (output, deit, method) = (args[0], args[1] == "deit-small", args[2]);
var data = args.Length > 3 ? args[3] : Path.Combine("samples", "data", "fashion-mnist");
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadImagesFromFolder(Path.Combine(data, "train"));
if (deit)
{
    train = ml.Data.TakeRows(ml.Data.ShuffleRows(train, seed: 1), 32);
}

void Recipe(VisionTransformerTrainerBase.OptionsBase options)
{
    (options.Backbone, options.BatchSize, options.Seed) = deit ? (Backbone.RandomlyInitialised("deit-small"), 32, 1) : (Backbone.FashionMnist, 50, 1);
    (options.MaxEpoch, options.MaxSteps) = deit ? (1, 1L) : (0, (long?)null);
}

T Options<T>(T options)
    where T : VisionTransformerTrainerBase.OptionsBase
{
    Recipe(options);
    return options;
}

var trainers = ml.MulticlassClassification.Trainers;
IEstimator<VisionTransformerClassifier> trainer = method switch
{
    "idle" => trainers.TokenIdleImageClassification(Options(new TokenIdleImageClassificationTrainer.Options { TokenReduction = { KeepRatio = 0.7 } })),
    "evit-fuse" => trainers.TokenReorganizationImageClassification(Options(new TokenReorganizationImageClassificationTrainer.Options { TokenReduction = { KeepRatio = 0.7, FuseInattentive = true } })),
    "life" => trainers.LifeRegressionSlimming(Options(new LifeRegressionSlimmingTrainer.Options { TokenReduction = { KeepRatio = 0.7 } })),
    _ => trainers.VisionTransformer(Options(new VisionTransformerTrainer.Options())),
};

var model = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
    .Append(trainer)
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
    .Fit(train);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
ml.Model.Save(model, train.Schema, output);
Console.WriteLine($"{output}: {args[1]} {args[2]}");
return 0;
