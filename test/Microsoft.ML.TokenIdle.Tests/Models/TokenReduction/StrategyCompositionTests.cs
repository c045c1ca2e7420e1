using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

public class StrategyCompositionTests
{
    [Fact]
    public void LifePredictorSelectionComposesWithIdling()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        var life = (LifeRegressionSelector)new LifeRegressionOptions { KeepRate = 0.7 }.CreateStrategy(set.Config).Selector;
        var schedule = new TokenIdlingOptions { KeepRate = 0.7 }.BuildSchedule(set.Config.Depth);
        var strategy = new TokenReductionStrategy(life, new TokenIdling(), schedule);
        var trace = new TokenReductionTrace();
        var tokens = strategy.ForwardTokens(model, set.Input, trace);

        // Idling keeps the sequence; every idle layer processes the longest-lived patches.
        Assert.Equal(set.Config.NumPatches + 1, tokens.Count);
        var lives = life.Predictor.Lives(LifeRegressionTests.BlockOutput(model, set.Input, life.PredictorLayer), life.Statistics);
        Assert.Equal(schedule.ReducingLayers, trace.Records.Select(r => r.Layer));
        foreach (var record in trace.Records)
        {
            for (var b = 0; b < set.Labels.Length; b++)
            {
                var expected = LifeRegressionTests.LongestLived(lives, b, record.KeptPerImage);
                Assert.Equal(expected, record.KeptSources.Skip(b * record.KeptPerImage).Take(record.KeptPerImage));
            }
        }
    }

    [Fact]
    public void ClassAttentionSelectionComposesWithIdlingAndMatchesScoringInTraining()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        var schedule = new TokenIdlingOptions { KeepRate = 0.5 }.BuildSchedule(set.Config.Depth);
        var strategy = new TokenReductionStrategy(new ClassAttentionSelector(), new TokenIdling(), schedule);
        var scored = strategy.Forward(model, set.Input).data<float>().ToArray();

        // The masked training path computes the same function as the gather/scatter scoring path.
        model.train();
        var trained = strategy.Forward(model, set.Input).data<float>().ToArray();
        for (var i = 0; i < scored.Length; i++)
        {
            Assert.Equal(scored[i], trained[i], 4);
        }
    }

    [Fact]
    public void FullScheduleGivesThePlainModel()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        var strategy = new TokenReductionStrategy(new ClassQueryKeySelector(), new TokenDropping(true, DropPoint.AfterAttention), new TokenSchedule(Enumerable.Repeat(1.0, set.Config.Depth).ToArray()));
        Assert.Equal(model.forward(set.Input).data<float>().ToArray(), strategy.Forward(model, set.Input).data<float>().ToArray());
    }
}
