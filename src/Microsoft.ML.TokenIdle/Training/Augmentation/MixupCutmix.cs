using Microsoft.ML.TokenIdle.Tensors;

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

    /// <summary>Mixes images [B,C,H,W] and targets [B, classes] in place.</summary>
    public void Apply(Tensor images, Tensor targets, Random random)
    {
        if (!Enabled)
        {
            return;
        }

        var cutmix = CutmixAlpha > 0 && (MixupAlpha <= 0 || random.NextDouble() < 0.5);
        var lambda = SampleBeta(cutmix ? CutmixAlpha : MixupAlpha, random);
        var (b, c, h, w) = (images.Size(0), images.Size(1), images.Size(2), images.Size(3));
        var source = images.Clone();
        if (cutmix)
        {
            var (ch, cw) = ((int)(h * Math.Sqrt(1 - lambda)), (int)(w * Math.Sqrt(1 - lambda)));
            var (cy, cx) = (random.Next(h), random.Next(w));
            var (y0, y1, x0, x1) = (Math.Clamp(cy - ch / 2, 0, h), Math.Clamp(cy + ch / 2, 0, h), Math.Clamp(cx - cw / 2, 0, w), Math.Clamp(cx + cw / 2, 0, w));
            for (var i = 0; i < b; i++)
            {
                for (var k = 0; k < c; k++)
                {
                    for (var y = y0; y < y1; y++)
                    {
                        source.Data.Slice(((b - 1 - i) * c + k) * h * w + y * w + x0, x1 - x0).CopyTo(images.Data.Slice((i * c + k) * h * w + y * w + x0, x1 - x0));
                    }
                }
            }

            lambda = 1 - (double)(y1 - y0) * (x1 - x0) / (h * w);
        }
        else
        {
            var per = c * h * w;
            for (var i = 0; i < b; i++)
            {
                var own = images.Data.Slice(i * per, per);
                var other = source.Data.Slice((b - 1 - i) * per, per);
                for (var j = 0; j < per; j++)
                {
                    own[j] = (float)(lambda * own[j] + (1 - lambda) * other[j]);
                }
            }
        }

        var classes = targets.Size(1);
        var original = targets.Clone();
        for (var i = 0; i < b; i++)
        {
            for (var j = 0; j < classes; j++)
            {
                targets.Data[i * classes + j] = (float)(lambda * original.Data[i * classes + j] + (1 - lambda) * original.Data[(b - 1 - i) * classes + j]);
            }
        }
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
