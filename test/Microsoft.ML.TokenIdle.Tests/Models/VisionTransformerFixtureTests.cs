using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Tests.Models;

public class VisionTransformerFixtureTests
{
    [Theory]
    [InlineData("micro")]
    [InlineData("deit-tiny")]
    public void FullForwardMatchesTimmLogitsAndEveryBlock(string fixture)
    {
        var set = FixtureSet.Get(fixture);
        var model = set.LoadModel();
        var blocks = new List<Tensor>();
        var logits = model.Forward(set.Input, blocks);
        var checks = set.FloatChecks("full").ToList();
        Assert.Equal(set.Config.Depth + 2, checks.Count);
        foreach (var (name, atol) in checks)
        {
            Tensor actual = name switch
            {
                "full.logits" => logits,
                "full.loss_ce" => Ops.CrossEntropy(logits, set.Labels),
                _ => blocks[int.Parse(name["full.block".Length..], System.Globalization.CultureInfo.InvariantCulture)],
            };
            set.AssertClose(name, actual, atol);
        }
    }

    [Fact]
    public void FullGradientsMatchTimmOnMicro()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        using var tape = GradientTape.Begin();
        var loss = Ops.CrossEntropy(model.Forward(set.Input), set.Labels);
        tape.Backward(loss);
        var parameters = model.StateDict();
        var checks = set.FloatChecks("full.grad").ToList();
        Assert.Equal(parameters.Count + 1, checks.Count);
        foreach (var (name, atol) in checks)
        {
            var actual = name == "full.loss_ce" ? loss : parameters[name["full.grad.".Length..]].Grad!;
            set.AssertClose(name, actual, atol);
        }
    }

    [Fact]
    public void ScopedInferenceEqualsUnscopedAndReusesMemory()
    {
        var set = FixtureSet.Get("micro");
        var model = set.LoadModel();
        var reference = model.Forward(set.Input).ToArray();
        for (var pass = 0; pass < 3; pass++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            float[] scored;
            using (var scope = TensorScope.Begin())
            {
                scored = model.Forward(set.Input).ToArray();
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(reference, scored);
            if (pass == 2)
            {
                // Pooled activations of one micro batch alone exceed 4 MB; bookkeeping stays far below.
                Assert.True(allocated < 1_000_000, $"a warm scoring pass allocated {allocated} bytes");
            }
        }
    }
}
