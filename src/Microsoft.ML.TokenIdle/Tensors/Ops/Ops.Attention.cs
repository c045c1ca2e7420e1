namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Multi-head scaled dot-product attention over a packed qkv tensor [B,N,3E] (queries, keys,
    /// values as column blocks; head h uses columns h·d..h·d+d−1 of each). Returns the attention
    /// output [B,N,E] (heads concatenated) and the probabilities [B,H,N,N]; both carry gradients.
    /// <paramref name="keyMask"/> [B,N], if given, is added to the logits of every query row (use a
    /// large negative value to hide a key, or log-weights for soft key masking); it receives a gradient
    /// when it requires one.
    /// </summary>
    public static (Tensor Output, Tensor Probabilities) Attention(Tensor qkv, int heads, Tensor? keyMask = null)
    {
        if (qkv.Rank != 3 || qkv.Size(2) % (3 * heads) != 0 || heads < 1)
        {
            throw ShapeError("attention", $"qkv must be [B,N,3E] with E divisible by {heads} heads", qkv.Shape);
        }

        var (b, n, e) = (qkv.Size(0), qkv.Size(1), qkv.Size(2) / 3);
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask.Size(0) != b || keyMask.Size(1) != n))
        {
            throw ShapeError("attention", $"key mask must be [{b},{n}]", keyMask.Shape);
        }

        var be = BackendOf(qkv);
        var scale = 1f / MathF.Sqrt(e / heads);
        var output = be.Empty(new[] { b, n, e });
        var probs = be.Empty(new[] { b, heads, n, n });
        be.AttentionForward(qkv, heads, scale, keyMask, output, probs);
        GradientTape.Record(new[] { output, probs }, () =>
        {
            if ((output.Grad is not null || probs.Grad is not null) && (qkv.RequiresGrad || keyMask is { RequiresGrad: true }))
            {
                be.AttentionBackward(qkv, heads, scale, probs, output.Grad, probs.Grad, qkv.GradOrZeros(), keyMask is { RequiresGrad: true } ? keyMask.GradOrZeros() : null);
            }
        }, qkv, keyMask);
        return (output, probs);
    }
}
