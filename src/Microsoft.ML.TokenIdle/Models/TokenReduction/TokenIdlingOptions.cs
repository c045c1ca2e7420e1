namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// IdleViT (token idling): idle layers 4..11 of 12 (from a third of the depth on for other depths)
/// process the class token and floor(r·N) patches, with r = k, k, k, k², k², k², k³, k³ — stages of
/// about three layers, the exponent growing by one per stage (for other counts: ceil(count / 3)
/// stages, the earlier ones one layer longer when the count does not divide).
/// </summary>
public sealed class TokenIdlingOptions : TokenReductionOptions
{
    /// <inheritdoc/>
    public override string Name => TokenReductionMethods.Names[(int)TokenReductionMethod.Idle];

    /// <inheritdoc/>
    protected override IReadOnlyList<int> DefaultLayers(int depth)
    {
        var first = (int)Math.Round(depth / 3.0, MidpointRounding.AwayFromZero);
        return Enumerable.Range(first, depth - first).ToArray();
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<double> LayerRatios(int count)
    {
        var stages = (count + 2) / 3;
        var ratios = new List<double>();
        for (var s = 0; s < stages; s++)
        {
            var length = count / stages + (s < count % stages ? 1 : 0);
            ratios.AddRange(Enumerable.Repeat(Math.Pow(KeepRatio, s + 1), length));
        }

        return ratios;
    }

    /// <inheritdoc/>
    protected override TokenReductionStrategy Create(VisionTransformerConfig config, TokenSchedule schedule)
        => new(new ClassQueryKeySelector(), new TokenIdling(), schedule);
}
