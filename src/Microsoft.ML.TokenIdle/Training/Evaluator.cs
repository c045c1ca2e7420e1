using System.Diagnostics;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Training;

/// <summary>Top-1, top-5, cross-entropy and throughput of a model (and method) on a labelled dataset.</summary>
public static class Evaluator
{
    /// <summary>Scores every image in batches of <paramref name="batchSize"/> (evaluation mode, pooled memory).</summary>
    public static EvaluationResult Evaluate(VisionTransformer model, TokenReductionStrategy? strategy, ImageDataset data, int batchSize = 256)
    {
        if (data.Classes != model.Config.NumClasses)
        {
            throw new ArgumentException($"the dataset has {data.Classes} classes, the model {model.Config.NumClasses}");
        }

        var training = model.IsTraining;
        model.Train(false);
        var (top1, top5, loss) = (0, 0, 0.0);
        var watch = Stopwatch.StartNew();
        try
        {
            for (var start = 0; start < data.Count; start += batchSize)
            {
                var indices = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
                var labels = data.LabelsOf(indices);
                using var scope = TensorScope.Begin();
                var images = data.Images(indices);
                var logits = model.Forward(images, strategy);
                loss += Ops.CrossEntropy(logits, labels)[0] * indices.Length;
                var classes = logits.Size(1);
                for (var b = 0; b < indices.Length; b++)
                {
                    var row = logits.Data.Slice(b * classes, classes);
                    var target = row[labels[b]];
                    var above = 0;
                    foreach (var v in row)
                    {
                        above += v > target ? 1 : 0;
                    }

                    top1 += above == 0 ? 1 : 0;
                    top5 += above < 5 ? 1 : 0;
                }
            }
        }
        finally
        {
            model.Train(training);
        }

        var n = Math.Max(1, data.Count);
        return new EvaluationResult((double)top1 / n, (double)top5 / n, loss / n, data.Count, data.Count / watch.Elapsed.TotalSeconds);
    }
}
