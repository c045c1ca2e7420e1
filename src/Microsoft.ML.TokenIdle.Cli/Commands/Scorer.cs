using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace TokenIdle.Cli.Commands;

/// <summary>Batched inference without gradients, one dispose scope per batch: the logits of all images, with or without token reduction.</summary>
internal static class Scorer
{
    /// <summary>Logits [n, classes] on the CPU.</summary>
    public static Tensor Score(VisionTransformer model, TokenReductionStrategy? strategy, Tensor images, int batchSize)
    {
        model.eval();
        using var noGrad = no_grad();
        var device = model.Device;
        var chunks = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, images.shape[0] - start);
            chunks.Add(model.Forward(images.narrow(0, start, count).to(device), strategy).cpu().MoveToOuterDisposeScope());
        }

        return cat(chunks, 0);
    }
}
