namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// EViT (token reorganization): at layers 3, 6 and 9 of 12 (scaled for other depths) keep the
/// ceil(k·(N−1)) tokens the class token attends to most, after the attention and before the MLP;
/// optionally fuse the others into one token.
/// </summary>
public sealed class TokenReorganizationOptions : TokenReductionOptions
{
    /// <summary>Fuse the inattentive tokens into one extra token (default true, as in the paper's main results).</summary>
    public bool FuseInattentive { get; set; } = true;

    /// <inheritdoc/>
    public override string Name => TokenReductionMethods.Names[(int)(FuseInattentive ? TokenReductionMethod.EvitFuse : TokenReductionMethod.Evit)];

    /// <inheritdoc/>
    protected override IReadOnlyList<int> DefaultLayers(int depth) => TokenSchedule.ScaleLayers(new[] { 3, 6, 9 }, depth);

    /// <inheritdoc/>
    protected override TokenReductionStrategy Create(VisionTransformerConfig config, TokenSchedule schedule)
        => new(new ClassAttentionSelector(), new TokenDropping(FuseInattentive, DropPoint.AfterAttention), schedule);
}
