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
        if (data.Classes != model.Config.NumClasses)
        {
            throw new ArgumentException($"the dataset has {data.Classes} classes, the model {model.Config.NumClasses}");
        }

        var training = model.training;
        model.eval();
        var (top1, top5, loss) = (0L, 0L, 0.0);
        var device = model.Device;
        var watch = Stopwatch.StartNew();
        try
        {
            using var noGrad = no_grad();
            for (var start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var indices = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
                var labels = tensor(data.LabelsOf(indices).Select(l => (long)l).ToArray(), dtype: int64, device: device);
                var logits = model.Forward(data.Images(indices, device), strategy);
                loss += nn.functional.cross_entropy(logits, labels).item<float>() * indices.Length;
                var above = logits.gt(logits.gather(1, labels.unsqueeze(1))).sum(1);
                top1 += above.eq(0).sum().item<long>();
                top5 += above.lt(5).sum().item<long>();
            }
        }
        finally
        {
            model.train(training);
        }

        var n = Math.Max(1, data.Count);
        return new EvaluationResult((double)top1 / n, (double)top5 / n, loss / n, data.Count, data.Count / watch.Elapsed.TotalSeconds);
    }
}
