using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models;

/// <summary>
/// The memory estimate's shape (what grows with what) and its refusal. How close it comes to measured peak resident
/// memory is a measurement, not a test: eng/memory-estimate.sh, docs/reliability.md (Memory).
/// </summary>
public class MemoryEstimateTests
{
    private static readonly VisionTransformerConfig Small = VisionTransformerConfig.DeitSmall;

    [Fact]
    public void ScoringGrowsWithTheBatchAndTheWidestLayersTokensAndHalvesInBfloat16()
    {
        var one = MemoryEstimate.ForScoring(Small, null, 1, ScalarType.Float32);
        var many = MemoryEstimate.ForScoring(Small, null, 64, ScalarType.Float32);
        Assert.Equal(197, one.Tokens);
        Assert.InRange(many.Bytes - one.Bytes, 63L * (one.Bytes - Overhead(Small)) - 64, 63L * (one.Bytes - Overhead(Small)) + 64);
        var bfloat = MemoryEstimate.ForScoring(Small, null, 64, ScalarType.BFloat16);
        Assert.InRange(bfloat.Bytes - Overhead(Small), (many.Bytes - Overhead(Small)) / 2 - 1, (many.Bytes - Overhead(Small)) / 2 + 1);

        // A method that removes tokens scores no wider than the full model's first layer.
        var evit = new TokenReorganizationOptions { KeepRatio = 0.5 }.CreateStrategy(Small);
        Assert.Equal(many.Bytes, MemoryEstimate.ForScoring(Small, evit, 64, ScalarType.Float32).Bytes);
    }

    [Fact]
    public void TrainingWithMaskedAttentionGrowsWithTheSquareOfTheTokensAndEvitDropsThem()
    {
        var idle = new TokenIdlingOptions { KeepRatio = 0.7 };
        var evit = new TokenReorganizationOptions { KeepRatio = 0.7 };
        long Train(int size, TokenReductionOptions? method, bool teacher = false, bool cut = false)
        {
            var config = Small with { ImageSize = size };
            return MemoryEstimate.ForTraining(config, method?.CreateStrategy(config), 16, teacher, cut).Bytes;
        }

        // Each doubling of the image size has ~4x the tokens: the full model's estimate grows 4x per doubling, IdleViT's
        // (attention maps and cut-loss matrices over all tokens at its idle layers) towards 16x as the square takes over.
        double Growth(TokenReductionOptions? method, int size, bool extras = false)
            => (double)(Train(2 * size, method, extras, extras) - Train(size, method, extras, extras)) / (Train(size, method, extras, extras) - Train(size / 2, method, extras, extras));
        Assert.InRange(Growth(null, 448), 3.5, 4.5);
        Assert.InRange(Growth(null, 896), 3.5, 4.5);
        Assert.True(Growth(idle, 896, extras: true) > Growth(idle, 448, extras: true), "the square's share grows with the tokens");
        Assert.InRange(Growth(idle, 1792, extras: true), 12, 16.5);
        Assert.True(Train(224, idle, teacher: true, cut: true) > Train(224, idle), "the teacher and the cut loss add memory");
        Assert.True(Train(224, evit) < Train(224, null), "EViT trains fewer tokens after its first reduction");

        // The strategy says which layers train over all tokens with a key mask: IdleViT's reducing layers, life regression's after its predictor.
        Assert.Equal(new[] { 4, 5, 6, 7, 8, 9, 10, 11 }, Masked(idle.CreateStrategy(Small)));
        Assert.Empty(Masked(evit.CreateStrategy(Small)));
        using var predictor = new LifePredictor(Small.EmbedDim, Small.LayerNormEps);
        var life = new LifeRegressionOptions { KeepRatio = 0.7, Predictor = predictor }.CreateStrategy(Small);
        Assert.Equal(Enumerable.Range(4, 8), Masked(life));

        // In training life regression removes no token: every layer runs all 197, where scoring runs fewer after layer 4;
        // EViT removes tokens in training as when scoring.
        Assert.All(life.TrainingPlan(Small), layer => Assert.Equal(197, layer.Counts.TokensIn));
        Assert.True(life.Plan(Small)[5].TokensIn < 197);
        var evitStrategy = evit.CreateStrategy(Small);
        Assert.Equal(evitStrategy.Plan(Small), evitStrategy.TrainingPlan(Small).Select(layer => layer.Counts));
    }

    [Fact]
    public void ARunBeyondWhatIsAvailableIsRefusedInOneLineNamingTokensEstimateAndKnobs()
    {
        var estimate = MemoryEstimate.ForTraining(Small, null, 32, teacher: false, cutLoss: false);
        estimate.EnsureFits(estimate.Bytes, "x");
        estimate.EnsureFits(null, "x");
        var e = Assert.Throws<InsufficientMemoryException>(() => estimate.EnsureFits(estimate.Bytes - 1, "the batch size (BatchSize)"));
        Assert.Equal($"training needs about {MemoryEstimate.Gigabytes(estimate.Bytes)} GB (197 tokens per image at 224 px in 16-px patches, batch 32, float32) and {MemoryEstimate.Gigabytes(estimate.Bytes - 1)} GB are available: lower the batch size (BatchSize)", e.Message);
    }

    [Fact]
    public void ScoringABatchBeyondWhatIsAvailableIsRefusedBeforeTheForwardRuns()
    {
        using var model = new VisionTransformer(VisionTransformerConfig.DeitTiny with { ImageSize = 1600 });
        var e = Assert.Throws<InsufficientMemoryException>(() => model.EnsureScoringFits(1024, null, "--batch-size"));
        Assert.StartsWith("scoring needs about ", e.Message);
        Assert.EndsWith("lower --batch-size", e.Message);
        model.EnsureScoringFits(1, null, "--batch-size");
    }

    private static IEnumerable<int> Masked(TokenReductionStrategy strategy)
        => strategy.TrainingPlan(Small).Select((plan, layer) => (plan.KeysMasked, layer)).Where(p => p.KeysMasked).Select(p => p.layer);

    // The fixed part of a scoring estimate: what ForScoring adds at any batch (the batch-1 estimate less one image's share).
    private static long Overhead(VisionTransformerConfig config)
    {
        var one = MemoryEstimate.ForScoring(config, null, 1, ScalarType.Float32).Bytes;
        var two = MemoryEstimate.ForScoring(config, null, 2, ScalarType.Float32).Bytes;
        return one - (two - one);
    }
}
