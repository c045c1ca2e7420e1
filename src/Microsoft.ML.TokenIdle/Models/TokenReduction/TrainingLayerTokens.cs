namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// One layer of a training forward, as memory estimates read it: the tokens it runs (<paramref name="Counts"/>; a
/// masked layer runs all of its input tokens) and whether it attends over them with a key mask instead of removing
/// tokens, which materialises the attention weights [B, heads, N, N] (IdleViT's idle layers, life regression's soft
/// lifetimes).
/// </summary>
/// <param name="Counts">The layer's token counts in training.</param>
/// <param name="KeysMasked">Whether the layer masks keys over all of its tokens.</param>
public readonly record struct TrainingLayerTokens(LayerTokenCounts Counts, bool KeysMasked);
