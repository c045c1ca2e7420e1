using Microsoft.ML.TokenIdle.Training.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Training.Optimizers;

public class AdamWGroupsTests
{
    private static (Parameter W, Parameter B, AdamW Optimizer) Setup(double weightDecay)
    {
        var w = nn.Parameter(tensor(new[] { 1f, -2f }, new long[] { 1, 2 }));
        var b = nn.Parameter(tensor(new[] { 0.5f }));
        return (w, b, AdamWGroups.Create(new[] { KeyValuePair.Create("w", w), KeyValuePair.Create("b", b) }, weightDecay));
    }

    // A loss whose gradients are the given values.
    private static void Step(AdamW optimizer, Parameter w, Parameter b, float[] gw, float gb, double rate)
    {
        optimizer.zero_grad();
        ((w * tensor(gw, new long[] { 1, 2 })).sum() + (b * gb).sum()).backward();
        AdamWGroups.SetLearningRate(optimizer, rate);
        optimizer.step();
    }

    [Fact]
    public void TwoStepsMatchTheHandComputedDecoupledUpdateWithoutDecayOnTheBias()
    {
        var (w, b, optimizer) = Setup(weightDecay: 0.1);
        var (lr, b1, b2, eps) = (0.01, 0.9, 0.999, 1e-8);
        double[] pw = { 1, -2 }, pb = { 0.5 };
        double[] mw = new double[2], vw = new double[2], mb = new double[1], vb = new double[1];
        var grads = new[] { (new[] { 0.3f, -0.6f }, 0.2f), (new[] { -0.1f, 0.4f }, -0.5f) };
        for (var t = 1; t <= 2; t++)
        {
            var (gw, gb) = grads[t - 1];
            Step(optimizer, w, b, gw, gb, lr);
            for (var i = 0; i < 2; i++)
            {
                mw[i] = b1 * mw[i] + (1 - b1) * gw[i];
                vw[i] = b2 * vw[i] + (1 - b2) * gw[i] * gw[i];
                pw[i] = pw[i] * (1 - lr * 0.1) - lr * (mw[i] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(vw[i] / (1 - Math.Pow(b2, t))) + eps);
            }

            mb[0] = b1 * mb[0] + (1 - b1) * gb;
            vb[0] = b2 * vb[0] + (1 - b2) * gb * gb;
            pb[0] -= lr * (mb[0] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(vb[0] / (1 - Math.Pow(b2, t))) + eps);
        }

        var actual = w.data<float>().ToArray().Append(b.data<float>()[0]).ToArray();
        NumericBounds.Within(nameof(NumericBounds.SmallComputation), actual.Zip(pw.Append(pb[0]), (x, y) => Math.Abs(x - y)).Max(), NumericBounds.SmallComputation, "two float32 AdamW steps against the float64 formula");
    }

    [Theory]
    [InlineData("blocks.0.attn.qkv.weight", 2, true)]
    [InlineData("blocks.0.attn.qkv.bias", 1, false)]
    [InlineData("norm.weight", 1, false)]
    [InlineData("pos_embed", 3, false)]
    [InlineData("cls_token", 3, false)]
    [InlineData("life_predictor.bilinear.weight", 2, true)]
    public void WeightDecaySkipsBiasesNormsAndEmbeddings(string name, int rank, bool decays)
        => Assert.Equal(decays, AdamWGroups.DecaysWeight(name, zeros(Enumerable.Repeat(2L, rank).ToArray())));

    [Fact]
    public void TheStateRoundTripsSoThatAResumedRunContinuesExactly()
    {
        var (w, b, optimizer) = Setup(weightDecay: 0.05);
        Step(optimizer, w, b, new[] { 0.5f, 0.5f }, 0.1f, 0.1);
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            optimizer.save_state_dict(writer);
        }

        var (w2, b2, restored) = Setup(weightDecay: 0.05);
        using (no_grad())
        {
            w2.copy_(w);
            b2.copy_(b);
        }

        saved.Position = 0;
        using (var reader = new BinaryReader(saved))
        {
            restored.load_state_dict(reader);
        }

        Step(optimizer, w, b, new[] { -0.2f, 0.3f }, 0.4f, 0.05);
        Step(restored, w2, b2, new[] { -0.2f, 0.3f }, 0.4f, 0.05);
        Assert.Equal(w.data<float>().ToArray(), w2.data<float>().ToArray());
        Assert.Equal(b.data<float>().ToArray(), b2.data<float>().ToArray());
    }

    [Fact]
    public void DuplicateNamesAreRefused()
    {
        var p = nn.Parameter(zeros(2, 2));
        Assert.Throws<ArgumentException>(() => AdamWGroups.Create(new[] { KeyValuePair.Create("w", p), KeyValuePair.Create("w", p) }, 0.1));
    }
}
