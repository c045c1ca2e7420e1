using Microsoft.ML.TokenIdle.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models;

public class VisionTransformerFixtureTests
{
    [Theory]
    [InlineData("micro")]
    [InlineData("deit-tiny")]
    public void FullForwardMatchesTimmLogitsAndEveryBlock(string fixture)
    {
        var set = FixtureSet.Get(fixture);
        using var model = set.LoadModel();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var blocks = new List<Tensor>();
        var logits = model.Classify(model.ForwardTokens(set.Input, blocks));
        var checks = set.FloatChecks("full").ToList();
        Assert.Equal(set.Config.Depth + 2, checks.Count);
        foreach (var (name, atol) in checks)
        {
            var actual = name switch
            {
                "full.logits" => logits,
                "full.loss_ce" => nn.functional.cross_entropy(logits, tensor(set.Labels.Select(l => (long)l).ToArray())),
                _ => blocks[int.Parse(name["full.block".Length..], System.Globalization.CultureInfo.InvariantCulture)],
            };
            set.AssertClose(name, actual, atol);
        }
    }

    [Fact]
    public void FullGradientsMatchTimmOnMicro()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.forward(set.Input), tensor(set.Labels.Select(l => (long)l).ToArray()));
        loss.backward();
        var parameters = model.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        var checks = set.FloatChecks("full.grad").ToList();
        Assert.Equal(parameters.Count + 1, checks.Count);
        foreach (var (name, atol) in checks)
        {
            var actual = name == "full.loss_ce" ? loss : parameters[name["full.grad.".Length..]].grad!;
            set.AssertClose(name, actual, atol);
        }
    }

    [Fact]
    public void ScopedPassesLeaveNoTensorsBehind()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        using var input = set.Input;
        float[] Pass()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return model.forward(input).data<float>().ToArray();
        }

        var reference = Pass();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var pass = 0; pass < 5; pass++)
        {
            Assert.Equal(reference, Pass());
        }

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
