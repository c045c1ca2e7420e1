namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// How a training forward treats a layer's keys: it removes tokens (or none), or it keeps every token and masks keys,
/// which materialises the attention weights [B, heads, N, N] — more of them when the mask itself is learned, since its
/// gradient then runs through the whole map. Memory estimates read it.
/// </summary>
public enum TrainingKeyMask
{
    /// <summary>No key mask: the layer attends over the tokens it keeps.</summary>
    None,

    /// <summary>A fixed mask over all tokens (IdleViT's idle tokens in training).</summary>
    Fixed,

    /// <summary>A mask with a gradient, over all tokens (life regression's soft lifetimes).</summary>
    Learned,
}
