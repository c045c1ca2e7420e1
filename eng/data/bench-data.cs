#!/usr/bin/env dotnet
#:package libtorch-cpu-linux-x64@2.10.0
#:project ../../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:property PublishAot=false
// Training speed of DeiT-S (224 px, random weights, 10 classes) reading a JPEG folder through the streaming data
// pipeline (decode workers, no cache) against the same steps on the same images decoded beforehand and held in memory,
// side by side: ROUNDS rounds, the two alternating (their order reversed every other round), STEPS timed steps each
// after one untimed step. Then decode + resize throughput per worker count on the folder's files.
// One JSON line per measurement; the last line summarises (median, min, max of the per-round ratio).
// usage: dotnet run -c Release eng/data/bench-data.cs -- FOLDER [STEPS=4] [BATCH=32] [ROUNDS=3] [THREADS=2] [WORKERS=2]
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;

var folder = args[0];
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;
var (steps, batch, rounds, threads, workers) = (Arg(1, 4), Arg(2, 32), Arg(3, 3), Arg(4, 2), Arg(5, 2));
TorchSharp.torch.set_num_threads(threads);
var config = VisionTransformerConfig.FromPreset("deit-small") with { NumClasses = 10 };
var format = config.InputFormat;
var files = ImageFiles.Folder(folder, new ImageFileOptions { Format = format, Classes = 10, CacheBudgetBytes = 0 });

// The same images in the same order, decoded beforehand.
var planar = new byte[files.Count][];
Parallel.For(0, files.Count, i => planar[i] = format.ToPlanar(ImageDecoder.Load(files.Files[i])));
var labels = files.Files.Select(f => int.Parse(Path.GetFileName(Path.GetDirectoryName(f)!))).ToArray();
var decoded = new ImageDataset(planar.SelectMany(p => p).ToArray(), labels, format, 10);

double Train(ImageSource data)
{
    using var model = new VisionTransformer(config, seed: 1);
    var stamps = new List<long>();
    var options = new TrainerOptions { MaxSteps = steps + 1, BatchSize = batch, LearningRate = 1e-4, Seed = 1, Data = new DataPipelineOptions { Workers = workers } };
    new Trainer(model, null, options).Fit(data, progress: new Stamps(stamps));
    return steps * batch / Stopwatch.GetElapsedTime(stamps[0], stamps[^1]).TotalSeconds;
}

var ratios = new List<double>();
for (var round = 1; round <= rounds; round++)
{
    var results = new Dictionary<string, double>();
    foreach (var name in round % 2 == 1 ? new[] { "streamed", "in_memory" } : new[] { "in_memory", "streamed" })
    {
        results[name] = Train(name == "streamed" ? files : decoded);
        Console.WriteLine(JsonSerializer.Serialize(new { round, contestant = name, images_per_second = Math.Round(results[name], 3), steps, batch, threads, workers }));
    }

    ratios.Add(results["streamed"] / results["in_memory"]);
}

var decodeRates = new Dictionary<string, double>();
foreach (var w in new[] { 1, 2 })
{
    var watch = Stopwatch.StartNew();
    Parallel.ForEach(files.Files, new ParallelOptions { MaxDegreeOfParallelism = w }, f => format.ToPlanar(ImageDecoder.Load(f)));
    decodeRates[$"decode_workers_{w}"] = Math.Round(files.Count / watch.Elapsed.TotalSeconds, 1);
}

ratios.Sort();
Console.WriteLine(JsonSerializer.Serialize(new
{
    summary = "streamed / in_memory", median = Math.Round(ratios[ratios.Count / 2], 3), min = Math.Round(ratios[0], 3), max = Math.Round(ratios[^1], 3),
    decode_images_per_second = decodeRates, images = files.Count,
}));

sealed class Stamps(List<long> stamps) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (!value.EpochCompleted)
        {
            stamps.Add(Stopwatch.GetTimestamp());
        }
    }
}
