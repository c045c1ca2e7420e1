#!/usr/bin/env dotnet
#:package Microsoft.ML@5.0.1
#:package Microsoft.ML.ImageAnalytics@5.0.1
#:package libtorch-cpu-linux-x64@2.10.0
#:project ../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:property PublishAot=false
// Writes the saved model the compatibility test loads after a dependency upgrade: an ML.NET pipeline (MapValueToKey →
// LoadImages → IdleViT k = 0.7 on a tiny ViT → MapKeyToValue) trained one epoch on the sample images' train split,
// saved as an ML.NET zip by this build, with the scores this build gives the 300 sample test images.
// usage: dotnet run eng/make-saved-model.cs -- OUTPUT_DIR NAME     (e.g. test/Microsoft.ML.TokenIdle.Tests/Data mlnet-5.0.1)
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle;

var (output, name) = (args[0], args[1]);
var samples = Path.Combine("samples", "data", "fashion-mnist");
var config = Path.Combine(Path.GetTempPath(), "tokenidle-saved-model.json");
File.WriteAllText(config, """{"img_size":28,"patch_size":7,"in_chans":1,"num_classes":10,"embed_dim":32,"depth":3,"num_heads":2,"mean":[0.286],"std":[0.353]}""");
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadImagesFromFolder(Path.Combine(samples, "train"));
var options = new TokenIdleImageClassificationTrainer.Options { ConfigPath = config, MaxEpoch = 1, BatchSize = 16, LearningRate = 3e-3, Seed = 1, TokenReduction = { KeepRate = 0.7 } };
var model = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
    .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(options))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
    .Fit(train);
Directory.CreateDirectory(output);
ml.Model.Save(model, train.Schema, Path.Combine(output, $"{name}.zip"));

var test = ml.Data.LoadImagesFromFolder(Path.Combine(samples, "test"));
var scored = model.Transform(test);
var paths = scored.GetColumn<string>("ImagePath").Select(p => Path.GetRelativePath(samples, p).Replace('\\', '/')).ToArray();
var scores = scored.GetColumn<float[]>("Score").ToArray();
var predicted = scored.GetColumn<string>("PredictedName").ToArray();
var rows = paths.Select((p, i) => new { path = p, predicted = predicted[i], score = scores[i] });
File.WriteAllText(Path.Combine(output, $"{name}.scores.json"), JsonSerializer.Serialize(rows));
Console.WriteLine($"{name}.zip and {name}.scores.json ({paths.Length} images) in {output}");
