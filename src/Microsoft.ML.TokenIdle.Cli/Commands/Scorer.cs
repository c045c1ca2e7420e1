using static TorchSharp.torch;

namespace TokenIdle.Cli.Commands;

/// <summary>Batched inference without gradients, one dispose scope per batch: the logits of all images, with or without token reduction, on either runtime.</summary>
internal static class Scorer
{
    /// <summary>Logits [n, classes] on the CPU.</summary>
    public static Tensor Score(ModelRuntime runtime, Tensor images, int batchSize)
    {
        using var noGrad = no_grad();
        var device = runtime.Device;
        var chunks = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, images.shape[0] - start);
            chunks.Add(runtime.Logits(images.narrow(0, start, count).to(device)).cpu().MoveToOuterDisposeScope());
        }

        return cat(chunks, 0);
    }
}
