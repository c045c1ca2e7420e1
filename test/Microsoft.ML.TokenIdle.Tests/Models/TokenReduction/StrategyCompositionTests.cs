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
        var life = (LifeRegressionSelector)new LifeRegressionOptions { KeepRatio = 0.7 }.CreateStrategy(set.Config).Selector;
        var schedule = new TokenIdlingOptions { KeepRatio = 0.7 }.BuildSchedule(set.Config.Depth);
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
        var schedule = new TokenIdlingOptions { KeepRatio = 0.5 }.BuildSchedule(set.Config.Depth);
        var strategy = new TokenReductionStrategy(new ClassAttentionSelector(), new TokenIdling(), schedule);
        using var input = set.Input;
        using var exact = Float64Reference.Logits(model, strategy, Float64Reference.Rows(input));
        using var scored = strategy.Forward(model, input);
        var (error, bound) = Float64Reference.LogitError(scored, exact);
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), error, bound, "the gather/scatter scoring path against float64");

        // The masked training path computes the same function as the gather/scatter scoring path.
        model.train();
        using var trained = strategy.Forward(model, input);
        (error, bound) = Float64Reference.LogitError(trained, exact);
        NumericBounds.Within(nameof(NumericBounds.RelativeLogit), error, bound, "the masked training path against float64");
    }

    [Fact]
    public void FullScheduleGivesThePlainModel()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        var strategy = new TokenReductionStrategy(new ClassQueryKeySelector(), new TokenDropping(true, DropPoint.AfterAttention), new TokenSchedule(Enumerable.Repeat(1.0, set.Config.Depth).ToArray()));

        // A layer that keeps every token runs the plain block: the same kernels on the same shapes, so bit for bit.
        Assert.Equal(model.forward(set.Input).data<float>().ToArray(), strategy.Forward(model, set.Input).data<float>().ToArray());
    }
}
