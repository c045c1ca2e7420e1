using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Training.Losses;

public class CutLossTests
{
    private static TokenReductionTrace TrainingTrace()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        model.train();
        var trace = new TokenReductionTrace();
        new TokenIdlingOptions { KeepRatio = 0.7 }.CreateStrategy(set.Config).Forward(model, set.Input, trace);
        return trace;
    }

    [Fact]
    public void VariantsAndLayerWeightsCombineThePerLayerTerms()
    {
        var trace = TrainingTrace();
        var both = new CutLoss().Compute(trace);
        Assert.Equal(4, both.IdleLayers);
        var inter = both.Inter.Select(t => t.item<float>()).ToArray();
        var intra = both.Intra.Select(t => t.item<float>()).ToArray();
        Assert.All(inter.Concat(intra), v => Assert.True(v > 0 && float.IsFinite(v)));

        // Sums of the same float32 terms in another order: within a few roundings.
        Assert.Equal(inter.Sum() + intra.Sum(), both.Total.item<float>(), NumericBounds.SmallComputation);
        Assert.Equal(inter.Sum(), new CutLoss { Variant = CutLossVariant.Inter }.Compute(trace).Total.item<float>(), NumericBounds.SmallComputation);
        Assert.Equal(intra.Sum(), new CutLoss { Variant = CutLossVariant.Intra }.Compute(trace).Total.item<float>(), NumericBounds.SmallComputation);
        Assert.Equal(0f, new CutLoss { Variant = CutLossVariant.None }.Compute(trace).Total.item<float>());
        var reference = new CutLoss { LayerWeights = CutLoss.ReferenceLayerWeights(4) }.Compute(trace).Total.item<float>();
        Assert.Equal(inter[0] + intra[0] + inter[2] + intra[2], reference, NumericBounds.SmallComputation);
    }

    [Fact]
    public void MisconfiguredCutLossNamesTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => new CutLoss { LayerWeights = new[] { 1.0, 1.0 } }.Compute(TrainingTrace()));
        Assert.Contains("2 layer weights for 4 idle layers", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CutLoss().Compute(new TokenReductionTrace()));
        Assert.Contains("no training-mode idle layer", e.Message);
    }
}
