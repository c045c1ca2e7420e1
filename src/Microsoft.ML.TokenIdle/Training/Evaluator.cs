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
    public static EvaluationResult Evaluate(VisionTransformer model, TokenReductionStrategy? strategy, ImageSource data, int batchSize = 256, DataPipelineOptions? pipeline = null)
    {
        var training = model.training;
        model.eval();
        try
        {
            return Evaluate(images => model.Forward(images, strategy), model.Config.NumClasses, model.Device, data, batchSize, pipeline);
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

        var (top1, top5, loss, count) = (0L, 0L, 0.0, 0);
        var watch = Stopwatch.StartNew();
        using var noGrad = no_grad();
        using var batches = new BatchReader(data, data.Order(null), 0, batchSize, dropLast: false, pipeline ?? new DataPipelineOptions());
        for (var batch = batches.Next(); batch is not null; batch = batches.Next())
        {
            using var scope = NewDisposeScope();
            var labels = batch.LabelTensor(device);
            var logits = logitsOf(batch.ToTensor(device));
            loss += nn.functional.cross_entropy(logits, labels).item<float>() * batch.Count;
            var above = logits.gt(logits.gather(1, labels.unsqueeze(1))).sum(1);
            top1 += above.eq(0).sum().item<long>();
            top5 += above.lt(5).sum().item<long>();
            count += batch.Count;
        }

        var n = Math.Max(1, count);
        return new EvaluationResult((double)top1 / n, (double)top5 / n, loss / n, count, count / watch.Elapsed.TotalSeconds);
    }
}
