using Microsoft.ML.TokenIdle.Training.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Training.Losses;

public class DistillationLossTests
{
    [Fact]
    public void LogitDistillationIsTheBatchMeanKlAtTheTemperature()
    {
        float[] s = { 1f, 2f, 0f, -1f, 0.5f, 3f }, tv = { 0f, 2f, 1f, 2f, 0f, 1f };
        var student = tensor(s, new long[] { 2, 3 });
        var teacher = tensor(tv, new long[] { 2, 3 });
        foreach (var t in new[] { 1.0, 3.0 })
        {
            double expected = 0;
            for (var b = 0; b < 2; b++)
            {
                var ps = Softmax(s.Skip(b * 3).Take(3).Select(v => v / t).ToArray());
                var pt = Softmax(tv.Skip(b * 3).Take(3).Select(v => v / t).ToArray());
                expected += Enumerable.Range(0, 3).Sum(c => pt[c] * Math.Log(pt[c] / ps[c]));
            }

            var loss = new LogitDistillationLoss { Temperature = t }.Compute(student, teacher).item<float>();
            NumericBounds.Within(nameof(NumericBounds.SmallComputation), Math.Abs(expected / 2 * t * t - loss), NumericBounds.SmallComputation, $"logit distillation at temperature {t} against float64");
        }

        Assert.Equal(0, new LogitDistillationLoss().Compute(teacher, teacher).item<float>(), NumericBounds.SmallComputation);
    }

    [Fact]
    public void FeatureDistillationComparesDirectionsNotLengths()
    {
        var a = tensor(new[] { 3f, 4f }, new long[] { 1, 2 });
        Assert.Equal(0, new FeatureDistillationLoss().Compute(a, tensor(new[] { 0.3f, 0.4f }, new long[] { 1, 2 })).item<float>(), NumericBounds.SmallComputation);

        // (0.6, 0.8) against (1, 0): mean of 0.16 and 0.64.
        Assert.Equal(0.4, new FeatureDistillationLoss().Compute(a, tensor(new[] { 2f, 0f }, new long[] { 1, 2 })).item<float>(), NumericBounds.SmallComputation);
    }

    [Fact]
    public void TeacherGetsNoGradient()
    {
        var student = tensor(new[] { 1f, 2f, 0f }, new long[] { 1, 3 }).requires_grad_();
        var teacher = tensor(new[] { 0f, 2f, 1f }, new long[] { 1, 3 }).requires_grad_();
        (new LogitDistillationLoss().Compute(student, teacher) + new FeatureDistillationLoss().Compute(student, teacher)).backward();
        Assert.NotNull(student.grad);
        Assert.Null(teacher.grad);
    }

    private static double[] Softmax(double[] x)
    {
        var max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }
}
