using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Nn;

public class MixedPrecisionTests
{
    // Relative L2 error of one parameter's gradient against the float32 reference. bfloat16 keeps 8 significant bits
    // (unit roundoff 2⁻⁸ ≈ 0.4 %) of every product's inputs, and the errors of the blocks add up forward and back:
    // measured on this fixture (micro, 6 blocks; Intel Xeon with AVX-512, no AMX) at most 1.10 % for the full model's
    // cross-entropy and 1.82 % for IdleViT's whole objective. About 3× the measured worst leaves room for other CPUs'
    // kernels; a wrong gradient (tens of percent) fails, and so does one computed in float32 (the last assertion).
    private const double ParameterTolerance = 0.06;

    // All parameters as one vector: measured 0.76 % (full) and 1.24 % (IdleViT).
    private const double TotalTolerance = 0.04;

    [Theory]
    [InlineData("full")]
    [InlineData("idle_train.k0.7")]
    public void BFloat16ProductsGiveGradientsCloseToTheFloat32ReferenceAndKeepFloat32Weights(string name)
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        using var scope = NewDisposeScope();
        Tensor loss;
        using (MixedPrecision.Products(ScalarType.BFloat16))
        {
            loss = Loss(set, model, name);
        }

        Assert.Equal(ScalarType.Float32, loss.dtype);
        loss.backward();
        var (errorSquared, referenceSquared) = (0.0, 0.0);
        var worst = (Name: string.Empty, Error: 0.0);
        foreach (var (parameter, value) in model.NamedParameters())
        {
            Assert.Equal(ScalarType.Float32, value.dtype);
            Assert.Equal(ScalarType.Float32, value.grad!.dtype);
            var reference = set.Expected[$"{name}.grad.{parameter}"].ToTensor();
            var difference = (value.grad!.detach() - reference).square().sum().item<float>();
            var norm = reference.square().sum().item<float>();
            (errorSquared, referenceSquared) = (errorSquared + difference, referenceSquared + norm);
            var relative = Math.Sqrt(difference / Math.Max(norm, 1e-30));
            if (relative > worst.Error)
            {
                worst = (parameter, relative);
            }
        }

        var total = Math.Sqrt(errorSquared / referenceSquared);
        NumericBounds.Within("BFloat16ParameterGradient", worst.Error, ParameterTolerance, $"{name}: {worst.Name}'s gradient against float32's, relative L2");
        NumericBounds.Within("BFloat16Gradient", total, TotalTolerance, $"{name}: the whole gradient against float32's, relative L2");
        Assert.True(total > 1e-5, $"{name}: the gradient equals float32's ({total:g3}): the products did not run in bfloat16");
    }

    [Fact]
    public void ProductsRunInTheScopesTypeOnlyInsideItAndScopesNest()
    {
        using var layer = nn.Linear(8, 4);
        using var input = randn(2, 8);
        Assert.Equal(ScalarType.Float32, MixedPrecision.Linear(layer, input).dtype);
        using (MixedPrecision.Products(ScalarType.BFloat16))
        {
            Assert.Equal(ScalarType.BFloat16, MixedPrecision.Linear(layer, input).dtype);
            using (MixedPrecision.Products(ScalarType.Float16))
            {
                Assert.Equal(ScalarType.Float16, MixedPrecision.Linear(layer, input).dtype);
            }

            Assert.Equal(ScalarType.BFloat16, MixedPrecision.Linear(layer, input).dtype);
        }

        Assert.Equal(ScalarType.Float32, MixedPrecision.Linear(layer, input).dtype);
        Assert.Equal(ScalarType.Float32, layer.weight!.dtype);
    }

    /// <summary>The case's float32 loss, as the reference computes it.</summary>
    private static Tensor Loss(FixtureSet set, VisionTransformer model, string name)
    {
        if (name == "full")
        {
            return nn.functional.cross_entropy(model.forward(set.Input).to_type(ScalarType.Float32), tensor(set.Labels.Select(l => (long)l).ToArray()));
        }

        Tensor teacherLogits, teacherFeature;
        using (no_grad())
        {
            teacherFeature = model.ClassFeature(model.ForwardTokens(set.Input));
            teacherLogits = model.Logits(teacherFeature).to_type(ScalarType.Float32);
        }

        // The reference's selections are constants of its float32 pass: replay them (see ReplayedSelector).
        var strategy = TokenIdlingFixtureTests.Strategy(set, name);
        var selections = new TokenReductionTrace();
        using (MixedPrecision.Products(ScalarType.Float32))
        using (no_grad())
        {
            model.train();
            strategy.ForwardTokens(model, set.Input, selections);
        }

        var replayed = new TokenReductionStrategy(new ReplayedSelector(strategy.Selector, selections), strategy.Reduction, strategy.Schedule);
        var objective = new IdleVitObjective { CutLoss = new CutLoss { LayerWeights = CutLoss.ReferenceLayerWeights(strategy.Schedule.ReducingLayers.Count()) } };
        var trace = new TokenReductionTrace(selections: false);
        var feature = model.ClassFeature(replayed.ForwardTokens(model, set.Input, trace).Tokens);
        var targets = SoftTargetCrossEntropy.Targets(set.Labels, set.Config.NumClasses);
        return objective.Compute(model.Logits(feature).to_type(ScalarType.Float32), feature, targets, (teacherLogits, teacherFeature), trace).Total;
    }
}
