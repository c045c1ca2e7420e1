using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models;

public class BFloat16FixtureTests
{
    // Largest |logit − reference| over a case, relative to the spread (standard deviation) of the reference logits, with
    // the reference's token selections replayed (ReplayedSelector): rounding alone. bfloat16 keeps 8 significant bits
    // (2⁻⁸ ≈ 0.4 %) and the whole network runs in it, LayerNorm and the residual stream included, so a few percent
    // accumulate over the blocks: measured 1.75–4.86 % over the twelve cases (Intel Xeon, AVX-512, no AMX).
    // 15 % leaves about 3× for other CPUs' kernels; a wrong computation (tens of percent, or NaN) fails.
    private const double RoundingTolerance = 0.15;

    // Share of the reference's kept tokens that bfloat16's own selection keeps too, over every reducing layer and image:
    // measured 88.8–99.2 % (random weights leave near-ties that bfloat16 breaks differently); a selection no better
    // than chance would keep about the keep ratio (50–70 %).
    private const double MinimumOverlap = 0.8;

    public static TheoryData<string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string> { { "micro", "full" }, { "deit-tiny", "full" } };
            foreach (var cases in new[] { TokenReorganizationFixtureTests.Cases, TokenIdlingFixtureTests.Cases })
            {
                foreach (var row in cases)
                {
                    data.Add((string)row[0], (string)row[1]);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BFloat16ScoringMatchesTheReferenceUpToRoundingAndKeepsItsTokens(string fixture, string name)
    {
        var set = FixtureSet.Get(fixture);
        var strategy = name.StartsWith("idle", StringComparison.Ordinal) ? TokenIdlingFixtureTests.Strategy(set, name)
            : name.StartsWith("evit", StringComparison.Ordinal) ? TokenReorganizationFixtureTests.Strategy(set, name)
            : null;
        using var model = set.LoadModel();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var reference = set.Expected[$"{name}.logits"].ToTensor();
        var spread = reference.std().item<float>();
        var selections = new TokenReductionTrace();
        model.Forward(set.Input, strategy, selections);
        model.to(ScalarType.BFloat16);

        // Rounding: the reference's selections replayed.
        var replayed = strategy is null ? null : new TokenReductionStrategy(new ReplayedSelector(strategy.Selector, selections), strategy.Reduction, strategy.Schedule);
        var rounded = model.Forward(set.Input, replayed);
        Assert.Equal(ScalarType.Float32, rounded.dtype);
        var rounding = (rounded - reference).abs().max().item<float>() / spread;

        // bfloat16's own selections: most kept tokens the same, and the class wherever the reference's margin exceeds twice the largest move.
        var own = new TokenReductionTrace();
        var logits = model.Forward(set.Input, strategy, own);
        var (same, total) = (0, 0);
        foreach (var (expected, actual) in selections.Records.Zip(own.Records))
        {
            for (var b = 0; b < set.Labels.Length; b++)
            {
                var k = expected.KeptPerImage;
                same += expected.Kept.Skip(b * k).Take(k).Intersect(actual.Kept.Skip(b * k).Take(k)).Count();
                total += k;
            }
        }

        var overlap = total == 0 ? 1.0 : (double)same / total;
        var error = (logits - reference).abs().max().item<float>();
        NumericBounds.Within("BFloat16RelativeLogit", rounding, RoundingTolerance, $"{fixture} {name}: bfloat16 rounding's largest logit move as a share of the spread (own selection: {error / spread:P1})");
        NumericBounds.Within("BFloat16SelectionChange", 1 - overlap, 1 - MinimumOverlap, $"{fixture} {name}: share of the reference's kept tokens that bfloat16's own selection drops");

        // Where the largest move seen cannot close the reference's top-two margin, the class cannot change.
        for (var b = 0; b < reference.shape[0]; b++)
        {
            var top = reference[b].topk(2).values.data<float>().ToArray();
            if (top[0] - top[1] > 2 * error)
            {
                Assert.Equal(reference[b].argmax().item<long>(), logits[b].argmax().item<long>());
            }
        }
    }
}
