using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

public class LifeRegressionTests
{
    private static (FixtureSet Set, VisionTransformer Model, TokenReductionStrategy Strategy, LifeRegressionSelector Selector) Micro(double keepRate = 0.6)
    {
        var set = FixtureSet.Get("micro");
        var strategy = new LifeRegressionOptions { KeepRatio = keepRate }.CreateStrategy(set.Config);
        return (set, set.LoadModel(), strategy, (LifeRegressionSelector)strategy.Selector);
    }

    [Fact]
    public void ThePredictorFollowsTheModelsPrecisionAndScoresInIt()
    {
        var (set, model, strategy, selector) = Micro();
        model.to(ScalarType.BFloat16);
        strategy.PlaceWith(model);
        Assert.All(selector.Predictor.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var noGrad = no_grad();
        using var logits = strategy.Forward(model, set.Input);
        Assert.Equal(new long[] { set.Labels.Length, set.Config.NumClasses }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void DefaultLayersScaleThePaperSchedule()
    {
        var twelve = new LifeRegressionOptions { KeepRatio = 0.7 }.BuildSchedule(12);
        Assert.Equal(new[] { 4, 7, 10 }, twelve.ReducingLayers);
        var (_, _, strategy, selector) = Micro();
        Assert.Equal(new[] { 2, 4, 5 }, strategy.Schedule.ReducingLayers);
        Assert.Equal(1, selector.PredictorLayer);
    }

    [Fact]
    public void StatisticsEqualTheMeanAndSpreadOfTheLivesScoringActuallyGives()
    {
        var (set, model, strategy, selector) = Micro();
        var trace = new TokenReductionTrace();
        using (no_grad())
        {
            strategy.Forward(model, set.Input, trace);
        }

        var depth = set.Config.Depth;
        var patches = set.Config.NumPatches;
        for (var b = 0; b < set.Labels.Length; b++)
        {
            // A patch lives to the last layer that processed it.
            var lives = Enumerable.Repeat(depth - 1, patches).ToArray();
            var alive = Enumerable.Range(0, patches).ToHashSet();
            foreach (var record in trace.Records)
            {
                var kept = record.KeptSources.Skip(b * record.KeptPerImage).Take(record.KeptPerImage).ToHashSet();
                foreach (var p in alive.Where(p => !kept.Contains(p)))
                {
                    lives[p] = record.Layer - 1;
                }

                alive = kept;
            }

            var mean = lives.Average();
            var std = Math.Sqrt(lives.Average(l => (l - mean) * (l - mean)));
            // float64 sums of small integers in another order: equal to the last few bits.
            Assert.Equal(mean, selector.Statistics.Mean, 1e-12);
            Assert.Equal(std, selector.Statistics.StdDev, 1e-12);
        }
    }

    [Fact]
    public void ScoringKeepsExactlyTheScheduledCountOfLongestLivedPatches()
    {
        var (set, model, strategy, selector) = Micro();
        var trace = new TokenReductionTrace();
        var tokens = strategy.ForwardTokens(model, set.Input, trace);
        var plan = strategy.Plan(set.Config);
        Assert.Equal(plan[^1].TokensOut, tokens.Count);

        var lives = selector.Predictor.Lives(BlockOutput(model, set.Input, selector.PredictorLayer), selector.Statistics);
        foreach (var record in trace.Records)
        {
            Assert.Equal(plan[record.Layer].MlpTokens, record.TokensOut);
            for (var b = 0; b < set.Labels.Length; b++)
            {
                var expected = LongestLived(lives, b, record.TokensOut - 1);
                Assert.Equal(expected.Order(), record.KeptSources.Skip(b * record.KeptPerImage).Take(record.KeptPerImage).Order());
            }
        }
    }

    [Fact]
    public void OrderingByLifeEqualsOrderingByTrainingWeightAtEveryLayer()
    {
        var (set, model, _, selector) = Micro();
        using var scope = NewDisposeScope();
        var state = selector.Prepare(selector.PredictorLayer + 1, TokenState.FromEmbedding(BlockOutput(model, set.Input, selector.PredictorLayer)));
        var byLife = state.Priority![.., 1..].argsort(-1, descending: true).data<long>().ToArray();
        for (var t = selector.PredictorLayer + 1; t < set.Config.Depth; t++)
        {
            var weights = selector.SoftKeyWeights(t, state)!;
            Assert.Equal(byLife, weights[.., 1..].argsort(-1, descending: true).data<long>().ToArray());
            Assert.All(weights[.., 0].data<float>().ToArray(), w => Assert.Equal(0f, w));
        }

        Assert.Null(selector.SoftKeyWeights(selector.PredictorLayer, state));
    }

    [Fact]
    public void TrainingKeepsEveryTokenAndSendsGradientsToThePredictor()
    {
        var (set, model, strategy, selector) = Micro();
        model.train();
        using var scope = NewDisposeScope();
        var tokens = strategy.ForwardTokens(model, set.Input);
        Assert.Equal(set.Config.NumPatches + 1, tokens.Count);
        nn.functional.cross_entropy(model.Classify(tokens.Tokens), tensor(set.Labels.Select(l => (long)l).ToArray())).backward();
        foreach (var (name, p) in selector.Predictor.NamedParameters())
        {
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"no gradient reached {name}");
        }
    }

    [Fact]
    public void PredictorWeightsRoundTripUnderTheirOwnNames()
    {
        var predictor = new LifePredictor(8);
        Assert.Equal(new[] { "norm.weight", "norm.bias", "bilinear.weight" }, predictor.NamedParameters().Select(p => p.Key));
        using (no_grad())
        {
            predictor.Bilinear.weight![0, 3] = 0.25f;
        }

        var path = Path.Combine(Path.GetTempPath(), $"predictor-{Guid.NewGuid():N}.safetensors");
        try
        {
            predictor.SaveWeights(path);
            var loaded = new LifePredictor(8);
            loaded.LoadWeights(path);
            Assert.Equal(predictor.Bilinear.weight!.data<float>().ToArray(), loaded.Bilinear.weight!.data<float>().ToArray());
            var e = Assert.Throws<InvalidDataException>(() => new LifePredictor(16).LoadWeights(path));
            Assert.Contains("key 'norm.weight' has shape [8], the model expects [16]", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Image b's <paramref name="count"/> patches with the longest lives [B, patches], longest first.</summary>
    internal static IEnumerable<int> LongestLived(Tensor lives, int b, int count)
    {
        var row = lives[b].data<float>().ToArray();
        return Enumerable.Range(0, row.Length).OrderByDescending(p => row[p]).Take(count);
    }

    internal static Tensor BlockOutput(VisionTransformer model, Tensor images, int layer)
    {
        using var noGrad = no_grad();
        var blocks = new List<Tensor>();
        model.ForwardTokens(images, blocks);
        return blocks[layer];
    }
}
