using System.Diagnostics;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training;

/// <summary>Top-1, top-5, cross-entropy and throughput of a model (and method) on a labelled dataset.</summary>
public static class Evaluator
{
    /// <summary>
    /// Scores every image in batches of <paramref name="batchSize"/> (evaluation mode, no gradients, one dispose
    /// scope per batch). A class ranks k-th when k − 1 classes score strictly higher.
    /// </summary>
    public static EvaluationResult Evaluate(VisionTransformer model, IReducedForward? method, ImageSource data, int batchSize = 256, DataPipelineOptions? pipeline = null)
    {
        var training = model.training;
        model.eval();
        try
        {
            return Evaluate(images => model.Forward(images, method), model.Config.NumClasses, model.Device, data, batchSize, pipeline);
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>
    /// The same measures for any scorer of images [B, C, H, W] on <paramref name="device"/> to logits [B, classes]
    /// (e.g. ONNX Runtime running the exported model), called without gradients in one dispose scope per batch. The
    /// images stream through the data pipeline in canonical order; rows skipped as unreadable are not counted.
    /// </summary>
    public static EvaluationResult Evaluate(Func<Tensor, Tensor> logitsOf, int classes, Device device, ImageSource data, int batchSize = 256, DataPipelineOptions? pipeline = null)
    {
        if (data.Classes != classes)
        {
            throw new ArgumentException($"the dataset has {data.Classes} classes, the model {classes}");
        }

        var count = 0;
        var watch = Stopwatch.StartNew();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();

        // Sums of the loss (float64) and of the top-1 and top-5 hits stay on the device; the host reads them once.
        var sums = zeros(3, dtype: float64, device: device);
        using var batches = new BatchReader(data, data.Order(null), 0, batchSize, dropLast: false, pipeline ?? new DataPipelineOptions());
        for (var batch = batches.Next(); batch is not null; batch = batches.Next())
        {
            using var batchScope = NewDisposeScope();
            var labels = batch.LabelTensor(device);
            var logits = logitsOf(batch.ToTensor(device));
            var above = logits.gt(logits.gather(1, labels.unsqueeze(1))).sum(1);
            var loss = nn.functional.cross_entropy(logits.to_type(float32), labels, reduction: nn.Reduction.Sum).to_type(float64);
            sums.add_(stack(new[] { loss, above.eq(0).sum().to_type(float64), above.lt(5).sum().to_type(float64) }));
            count += batch.Count;
        }

        var totals = sums.cpu().data<double>().ToArray();
        var n = Math.Max(1, count);
        return new EvaluationResult(totals[1] / n, totals[2] / n, totals[0] / n, count, count / watch.Elapsed.TotalSeconds);
    }
}
