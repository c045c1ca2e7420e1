using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

public class TokenStateTests
{
    [Fact]
    public void SourcesFollowSelectionAndFusionOnTheTokensDevice()
    {
        using var tokens = arange(2 * 5 * 3, dtype: ScalarType.Float32).reshape(2, 5, 3);
        var state = TokenState.FromEmbedding(tokens);
        Assert.Equal(tokens.device.ToString(), state.Sources.device.ToString());
        Assert.Equal(new long[] { -2, 0, 1, 2, 3, -2, 0, 1, 2, 3 }, state.Sources.contiguous().data<long>().ToArray());

        using var kept = tensor(new long[] { 3, 0, 1, 2 }, new long[] { 2, 2 });
        var positions = TokenState.WithClassToken(kept);
        Assert.Equal(new long[] { 0, 4, 1, 0, 2, 3 }, positions.data<long>().ToArray());

        var selected = state.Select(positions).AppendFused(zeros(2, 1, 3), null);
        Assert.Equal(new long[] { -2, 3, 0, -1, -2, 1, 2, -1 }, selected.Sources.data<long>().ToArray());
        Assert.Equal(tokens[1, 3].data<float>().ToArray(), selected.Tokens[1, 2].data<float>().ToArray());
    }

    [Fact]
    public void MismatchedSourcesAreRefusedWithTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenState(zeros(2, 5, 3), zeros(new long[] { 2, 4 }, dtype: ScalarType.Int64)));
        Assert.Contains("[2,5,3]", e.Message);
        Assert.Contains("[2,4]", e.Message);
    }

    [Fact]
    public void ATraceWithoutSelectionsKeepsTheLossInputsAndSaysItHasNoKeptTokens()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        model.train();
        var strategy = new TokenIdlingOptions { KeepRatio = 0.7 }.CreateStrategy(set.Config);
        var withSelections = new TokenReductionTrace();
        var without = new TokenReductionTrace(selections: false);
        using (no_grad())
        {
            strategy.Forward(model, set.Input, withSelections);
            strategy.Forward(model, set.Input, without);
        }

        Assert.Equal(withSelections.Records.Select(r => r.Layer), without.Records.Select(r => r.Layer));
        Assert.All(without.Records, r => Assert.NotNull(r.Qkv));
        Assert.Equal(withSelections.Records[0].KeptPerImage * set.Labels.Length, withSelections.Records[0].Kept.Length);
        var e = Assert.Throws<InvalidOperationException>(() => without.Records[0].Kept);
        Assert.Contains("selections: false", e.Message);

        // Life regression's per-patch lives come to the host only for a trace that asks for selections.
        var life = new LifeRegressionOptions { KeepRatio = 0.7 }.CreateStrategy(set.Config);
        var (lives, noLives) = (new TokenReductionTrace(), new TokenReductionTrace(selections: false));
        using (no_grad())
        {
            model.eval();
            life.Forward(model, set.Input, lives);
            life.Forward(model, set.Input, noLives);
        }

        Assert.Equal(set.Labels.Length * set.Config.NumPatches, lives.PatchPriorities!.Length);
        Assert.Null(noLives.PatchPriorities);
    }
}
