using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tensors;

namespace TokenIdle.Cli.Commands;

/// <summary>Batched inference with pooled memory: the logits of all images, with or without token reduction.</summary>
internal static class Scorer
{
    public static Tensor Score(VisionTransformer model, TokenReductionStrategy? strategy, Tensor images, int batchSize)
    {
        var n = images.Size(0);
        var classes = model.Config.NumClasses;
        var logits = Tensor.Zeros(n, classes);
        for (var start = 0; start < n; start += batchSize)
        {
            var count = Math.Min(batchSize, n - start);
            using var scope = TensorScope.Begin();
            model.Forward(Ops.Slice(images, 0, start, count), strategy).Data.CopyTo(logits.Data.Slice(start * classes, count * classes));
        }

        return logits;
    }
}
