using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Augmentation;

/// <summary>
/// Mixup and CutMix with soft targets, as timm's <c>Mixup</c> in batch mode: with λ ~ Beta(α, α), each
/// image is mixed with the batch reversed, either blended (mixup) or with a box pasted (cutmix; λ
/// corrected to the box's true area); the targets mix the same way. When both are on, cutmix is
/// chosen half of the time.
/// </summary>
public sealed class MixupCutmix
{
    /// <summary>Mixup's α (0 = off).</summary>
    public double MixupAlpha { get; init; }

    /// <summary>CutMix's α (0 = off).</summary>
    public double CutmixAlpha { get; init; }

    /// <summary>Whether any mixing is on.</summary>
    public bool Enabled => MixupAlpha > 0 || CutmixAlpha > 0;

    /// <summary>Mixes images [B,C,H,W] and targets [B, classes] in place, each with the batch reversed.</summary>
    public void Apply(Tensor images, Tensor targets, Random random)
    {
        if (!Enabled)
        {
            return;
        }

        var cutmix = CutmixAlpha > 0 && (MixupAlpha <= 0 || random.NextDouble() < 0.5);
        var lambda = SampleBeta(cutmix ? CutmixAlpha : MixupAlpha, random);
        using var scope = NewDisposeScope();
        var reversed = images.flip(0);
        if (cutmix)
        {
            var (h, w) = ((int)images.shape[2], (int)images.shape[3]);
            var (ch, cw) = ((int)(h * Math.Sqrt(1 - lambda)), (int)(w * Math.Sqrt(1 - lambda)));
            var (cy, cx) = (random.Next(h), random.Next(w));
            var (y0, y1, x0, x1) = (Math.Clamp(cy - ch / 2, 0, h), Math.Clamp(cy + ch / 2, 0, h), Math.Clamp(cx - cw / 2, 0, w), Math.Clamp(cx + cw / 2, 0, w));
            if (y1 > y0 && x1 > x0)
            {
                images.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0).copy_(reversed.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0));
            }

            lambda = 1 - (double)(y1 - y0) * (x1 - x0) / (h * w);
        }
        else
        {
            images.mul_(lambda).add_(reversed, alpha: 1 - lambda);
        }

        targets.mul_(lambda).add_(targets.flip(0), alpha: 1 - lambda);
    }

    private static double SampleBeta(double alpha, Random random)
    {
        var x = SampleGamma(alpha, random);
        var y = SampleGamma(alpha, random);
        return x / (x + y);
    }

    // Marsaglia and Tsang; for α < 1 the boost Gamma(α) = Gamma(α + 1)·U^(1/α).
    private static double SampleGamma(double alpha, Random random)
    {
        if (alpha < 1)
        {
            return SampleGamma(alpha + 1, random) * Math.Pow(random.NextDouble(), 1 / alpha);
        }

        var d = alpha - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(random);
                v = 1 + c * x;
            }
            while (v <= 0);

            v = v * v * v;
            var u = random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v))
            {
                return d * v;
            }
        }
    }

    private static double Normal(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
