namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>Batch-mean cross-entropy of logits [B, classes] against class indices, shape [1].</summary>
    public static Tensor CrossEntropy(Tensor logits, int[] labels)
    {
        if (logits.Rank != 2 || labels.Length != logits.Size(0))
        {
            throw new ArgumentException($"cross_entropy: logits {ShapeUtil.Format(logits.Shape)} need [B, classes] with B = {labels.Length} labels");
        }

        var classes = logits.Size(1);
        foreach (var l in labels)
        {
            if ((uint)l >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"cross_entropy: label {l} is outside [0, {classes})");
            }
        }

        var picked = Gather(LogSoftmax(logits), 1, labels);
        return Scale(Mean(picked), -1f);
    }
}
