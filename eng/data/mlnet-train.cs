#!/usr/bin/env dotnet
#:package Microsoft.ML@6.0.0
#:package Microsoft.ML.ImageAnalytics@6.0.0
#:package libtorch-cpu-linux-x64@2.10.0
#:project ../../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:property PublishAot=false
// An ML.NET pipeline as a user writes it (MapValueToKey → LoadImages → VisionTransformer trainer) on ROWS image paths
// of a class-folder tree, trained MAX_STEPS steps: the trainer streams the view. Prints one JSON line.
// usage: dotnet run eng/data/mlnet-train.cs -- FOLDER ROWS CONFIG.json MAX_STEPS BATCH [WORKERS] [SHUFFLE_BUFFER_MB]
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.TokenIdle;

var (folder, count, config, steps, batch) = (args[0], int.Parse(args[1]), args[2], int.Parse(args[3]), int.Parse(args[4]));
var workers = args.Length > 5 ? int.Parse(args[5]) : Environment.ProcessorCount;
var shuffleBuffer = args.Length > 6 ? long.Parse(args[6]) : new VisionTransformerTrainer.Options().ShuffleBufferMegabytes;
var rows = Directory.EnumerateFiles(folder, "*.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(count)
    .Select(f => new Row { ImagePath = f, Label = Path.GetFileName(Path.GetDirectoryName(f)!) }).ToList();
var ml = new MLContext(seed: 1);
ml.Log += (_, e) =>
{
    if (e.Source.Contains("Trainer", StringComparison.Ordinal) && e.Kind <= Microsoft.ML.Runtime.ChannelMessageKind.Info)
    {
        Console.Error.WriteLine(e.Message);
    }
};
var options = new VisionTransformerTrainer.Options { Backbone = Backbone.Files(config), MaxSteps = steps, BatchSize = batch, DataWorkers = workers, LearningRate = 1e-4, ShuffleBufferMegabytes = shuffleBuffer };
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
    .Append(ml.MulticlassClassification.Trainers.VisionTransformer(options));
var watch = Stopwatch.StartNew();
pipeline.Fit(ml.Data.LoadFromEnumerable(rows));
Console.WriteLine(JsonSerializer.Serialize(new { source = "mlnet", rows = rows.Count, steps, batch, seconds = Math.Round(watch.Elapsed.TotalSeconds, 1) }));

sealed class Row
{
    public string ImagePath { get; set; } = string.Empty;

    public string Label { get; set; } = string.Empty;
}
