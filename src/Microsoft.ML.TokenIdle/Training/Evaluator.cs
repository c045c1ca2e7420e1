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
    public static EvaluationResult Evaluate(VisionTransformer model, TokenReductionStrategy? strategy, ImageDataset data, int batchSize = 256)
    {
        var training = model.training;
        model.eval();
        try
        {
            return Evaluate(images => model.Forward(images, strategy), model.Config.NumClasses, model.Device, data, batchSize);
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>
    /// The same measures for any scorer of images [B, C, H, W] on <paramref name="device"/> to logits [B, classes]
    /// (e.g. ONNX Runtime running the exported model), called without gradients in one dispose scope per batch.
    /// </summary>
    public static EvaluationResult Evaluate(Func<Tensor, Tensor> logitsOf, int classes, Device device, ImageDataset data, int batchSize = 256)
    {
        if (data.Classes != classes)
        {
            throw new ArgumentException($"the dataset has {data.Classes} classes, the model {classes}");
        }

        var (top1, top5, loss) = (0L, 0L, 0.0);
        var watch = Stopwatch.StartNew();
        using var noGrad = no_grad();
        for (var start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
            var labels = tensor(data.LabelsOf(indices).Select(l => (long)l).ToArray(), dtype: int64, device: device);
            var logits = logitsOf(data.Images(indices, device));
            loss += nn.functional.cross_entropy(logits, labels).item<float>() * indices.Length;
            var above = logits.gt(logits.gather(1, labels.unsqueeze(1))).sum(1);
            top1 += above.eq(0).sum().item<long>();
            top5 += above.lt(5).sum().item<long>();
        }

        var n = Math.Max(1, data.Count);
        return new EvaluationResult((double)top1 / n, (double)top5 / n, loss / n, data.Count, data.Count / watch.Elapsed.TotalSeconds);
    }
}
