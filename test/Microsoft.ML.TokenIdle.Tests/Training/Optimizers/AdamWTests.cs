using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Training.Optimizers;

namespace Microsoft.ML.TokenIdle.Tests.Training.Optimizers;

public class AdamWTests
{
    [Fact]
    public void TwoStepsMatchTheHandComputedUpdate()
    {
        var w = Tensor.FromArray(new[] { 1f, -2f }, 1, 2);
        var b = Tensor.FromArray(new[] { 0.5f }, 1);
        var optimizer = new AdamW(new[] { KeyValuePair.Create("w", w), KeyValuePair.Create("b", b) }) { WeightDecay = 0.1 };
        var (lr, b1, b2, eps) = (0.01, 0.9, 0.999, 1e-8);
        double[] pw = { 1, -2 }, pb = { 0.5 };
        double[] mw = new double[2], vw = new double[2], mb = new double[1], vb = new double[1];
        var grads = new[] { (new[] { 0.3f, -0.6f }, 0.2f), (new[] { -0.1f, 0.4f }, -0.5f) };
        for (var t = 1; t <= 2; t++)
        {
            var (gw, gb) = grads[t - 1];
            w.Grad = Tensor.FromArray(gw, 1, 2);
            b.Grad = Tensor.FromArray(new[] { gb }, 1);
            optimizer.Update(lr);
            for (var i = 0; i < 2; i++)
            {
                mw[i] = b1 * mw[i] + (1 - b1) * gw[i];
                vw[i] = b2 * vw[i] + (1 - b2) * gw[i] * gw[i];
                pw[i] = pw[i] * (1 - lr * 0.1) - lr * (mw[i] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(vw[i] / (1 - Math.Pow(b2, t))) + eps);
            }

            // The bias is not decayed.
            mb[0] = b1 * mb[0] + (1 - b1) * gb;
            vb[0] = b2 * vb[0] + (1 - b2) * gb * gb;
            pb[0] -= lr * (mb[0] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(vb[0] / (1 - Math.Pow(b2, t))) + eps);
        }

        Assert.Equal(pw[0], w.Data[0], 6);
        Assert.Equal(pw[1], w.Data[1], 6);
        Assert.Equal(pb[0], b.Data[0], 6);
        Assert.Equal(2, optimizer.Step);
    }

    [Theory]
    [InlineData("blocks.0.attn.qkv.weight", 2, true)]
    [InlineData("blocks.0.attn.qkv.bias", 1, false)]
    [InlineData("norm.weight", 1, false)]
    [InlineData("pos_embed", 3, false)]
    [InlineData("cls_token", 3, false)]
    [InlineData("life_predictor.bilinear.weight", 2, true)]
    public void WeightDecaySkipsBiasesNormsAndEmbeddings(string name, int rank, bool decays)
        => Assert.Equal(decays, AdamW.DecaysWeight(name, Tensor.Zeros(Enumerable.Repeat(2, rank).ToArray())));

    [Fact]
    public void StateRoundTripsAndRejectsStrangers()
    {
        var w = Tensor.FromArray(new[] { 1f, 2f }, 2, 1);
        var optimizer = new AdamW(new[] { KeyValuePair.Create("w", w) });
        w.Grad = Tensor.FromArray(new[] { 0.5f, 0.5f }, 2, 1);
        optimizer.Update(0.1);
        var state = optimizer.StateTensors().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var restored = new AdamW(new[] { KeyValuePair.Create("w", w) });
        restored.LoadState(state, "ckpt");
        Assert.Equal(1, restored.Step);
        Assert.Equal(state["adamw.v.w"].ToArray(), restored.StateTensors().Single(kv => kv.Key == "adamw.v.w").Value.ToArray());

        var other = new AdamW(new[] { KeyValuePair.Create("u", Tensor.Zeros(2, 1)) });
        var e = Assert.Throws<InvalidDataException>(() => other.LoadState(state, "ckpt"));
        Assert.Contains("unknown parameter 'w'", e.Message);
    }

    [Fact]
    public void ClippingScalesToTheGlobalNorm()
    {
        var a = Tensor.Zeros(2);
        var c = Tensor.Zeros(1);
        a.Grad = Tensor.FromArray(new[] { 3f, 0f }, 2);
        c.Grad = Tensor.FromArray(new[] { 4f }, 1);
        Assert.Equal(5.0, GradientClipping.ClipByGlobalNorm(new[] { a, c }, 1.0), 6);
        Assert.Equal(0.6f, a.Grad.Data[0], 5);
        Assert.Equal(0.8f, c.Grad.Data[0], 5);
        Assert.Equal(1.0, GradientClipping.ClipByGlobalNorm(new[] { a, c }, 2.0), 5);
        Assert.Equal(0.6f, a.Grad.Data[0], 5);
    }
}
