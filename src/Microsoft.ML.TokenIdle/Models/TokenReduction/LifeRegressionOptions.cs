namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Life-regression patch slimming: the predictor reads the output of layer 3 of 12 and slimming
/// layers 4, 7 and 10 (scaled for other depths) keep n_{t+1} = ceil(ρ·n_t) patches, those with the
/// longest predicted lives; μ and σ of the lives follow from these counts.
/// </summary>
public sealed class LifeRegressionOptions : TokenReductionOptions
{
    /// <inheritdoc/>
    public override string Name => TokenReductionMethods.Names[(int)TokenReductionMethod.Life];

    /// <summary>The layer whose output the predictor reads; null for the layer before the first slimming layer.</summary>
    public int? PredictorLayer { get; set; }

    /// <summary>U of the training weights σ(U·(τ − t)); default 1.5.</summary>
    public double Steepness { get; set; } = 1.5;

    /// <summary>A trained predictor; null for a new one (identity bilinear form).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public LifePredictor? Predictor { get; set; }

    /// <inheritdoc/>
    protected override IReadOnlyList<int> DefaultLayers(int depth) => TokenSchedule.ScaleLayers(new[] { 4, 7, 10 }, depth);

    /// <inheritdoc/>
    protected override TokenReductionStrategy Create(VisionTransformerConfig config, TokenSchedule schedule)
    {
        var slimming = schedule.ReducingLayers.ToArray();
        var predictorLayer = PredictorLayer ?? (slimming.Length > 0 ? slimming[0] - 1 : config.Depth - 2);
        if (predictorLayer < 0 || predictorLayer >= config.Depth - 1)
        {
            throw new ArgumentException($"life predictor layer {predictorLayer} must be in 0..{config.Depth - 2} (a later layer must remain to slim)");
        }

        if (slimming.Length > 0 && slimming[0] <= predictorLayer)
        {
            throw new ArgumentException($"slimming layer {slimming[0]} comes before the predictor has run (it reads the output of layer {predictorLayer})");
        }

        var reduction = new TokenDropping(fuse: false, DropPoint.BeforeBlock);
        var counts = schedule.Plan(reduction, config).Select(c => c.MlpTokens - 1).ToArray();
        var predictor = Predictor ?? new LifePredictor(config.EmbedDim, (float)config.LayerNormEps);
        var selector = new LifeRegressionSelector(predictor, predictorLayer, LifeStatistics.FromCounts(counts), Steepness);
        return new TokenReductionStrategy(selector, reduction, schedule);
    }
}
