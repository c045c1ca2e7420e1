#!/usr/bin/env dotnet
#:package Microsoft.ML.OnnxRuntime@1.32.0
#:property PublishAot=false
// ONNX Runtime's CPU throughput on an ONNX model with one image input [B,3,224,224] (the DeiT-S eng/bench/
// torch_deit_bench.py exports with torch.onnx): random images, all graph optimisations, THREADS intra-op threads,
// one inter-op thread. Prints one JSON line like `tokenidle bench`, with the mean |value| of the first output on the
// random batch (two graphs of the same network give the same figure).
// usage: dotnet run eng/bench/onnxruntime-deit.cs -- MODEL.onnx BATCH THREADS SECONDS [PROFILE_PREFIX]
// With PROFILE_PREFIX, ONNX Runtime also writes its per-node profile (PREFIX_*.json) of the whole run.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

var path = args[0];
var batch = int.Parse(args[1]);
var threads = int.Parse(args[2]);
var seconds = double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
using var options = new SessionOptions
{
    IntraOpNumThreads = threads,
    InterOpNumThreads = 1,
    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
};
if (args.Length > 4)
{
    options.ProfileOutputPathPrefix = args[4];  // before EnableProfiling, which hands the prefix to the runtime
    options.EnableProfiling = true;
}

using var session = new InferenceSession(path, options);
var random = new Random(0);
var pixels = new float[batch * 3 * 224 * 224];
for (var i = 0; i < pixels.Length; i++)
{
    pixels[i] = (float)(random.NextDouble() * 2 - 1);
}

var input = new DenseTensor<float>(pixels, new[] { batch, 3, 224, 224 });
var inputs = new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input) };

void Step()
{
    using var outputs = session.Run(inputs);
}

double meanAbsoluteOutput;
using (var first = session.Run(inputs))
{
    meanAbsoluteOutput = first.First().AsTensor<float>().Average(v => Math.Abs(v));
}

var passes = 0;
var watch = Stopwatch.StartNew();
while (watch.Elapsed.TotalSeconds < seconds)
{
    Step();
    passes++;
}

var elapsed = watch.Elapsed.TotalSeconds;
if (options.EnableProfiling)
{
    session.EndProfiling();
}

Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["mode"] = "inference", ["framework"] = "ONNX Runtime 1.32.0", ["batch"] = batch, ["threads"] = threads,
    ["passes"] = passes, ["seconds"] = Math.Round(elapsed, 3), ["images_per_second"] = Math.Round(passes * batch / elapsed, 2),
    ["mean_abs_output"] = meanAbsoluteOutput,
}));
