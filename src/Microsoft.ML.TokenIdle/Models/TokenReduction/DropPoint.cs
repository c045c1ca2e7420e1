namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>Where in a reducing block <see cref="TokenDropping"/> removes tokens.</summary>
public enum DropPoint
{
    /// <summary>After the attention residual, before the MLP (EViT: the layer's attention still sees every token).</summary>
    AfterAttention,

    /// <summary>Before the block (life regression: a patch whose life has ended takes no part in the layer).</summary>
    BeforeBlock,
}
