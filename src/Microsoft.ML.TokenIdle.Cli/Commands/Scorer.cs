using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Cli.Commands;

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
            Forward(model, strategy, Ops.Slice(images, 0, start, count)).Data.CopyTo(logits.Data.Slice(start * classes, count * classes));
        }

        return logits;
    }

    /// <summary>One forward pass: the plain model, or the strategy's reduced pass.</summary>
    public static Tensor Forward(VisionTransformer model, TokenReductionStrategy? strategy, Tensor images)
        => strategy is null ? model.Forward(images) : strategy.Forward(model, images);
}
