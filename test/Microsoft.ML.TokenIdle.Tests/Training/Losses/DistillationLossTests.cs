using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle.Tests.Training.Losses;

public class DistillationLossTests
{
    [Fact]
    public void LogitDistillationIsTheBatchMeanKlAtTheTemperature()
    {
        var student = Tensor.FromArray(new[] { 1f, 2f, 0f, -1f, 0.5f, 3f }, 2, 3);
        var teacher = Tensor.FromArray(new[] { 0f, 2f, 1f, 2f, 0f, 1f }, 2, 3);
        foreach (var t in new[] { 1.0, 3.0 })
        {
            double expected = 0;
            for (var b = 0; b < 2; b++)
            {
                var ps = Softmax(student.ToArray().Skip(b * 3).Take(3).Select(v => v / t).ToArray());
                var pt = Softmax(teacher.ToArray().Skip(b * 3).Take(3).Select(v => v / t).ToArray());
                expected += Enumerable.Range(0, 3).Sum(c => pt[c] * Math.Log(pt[c] / ps[c]));
            }

            var loss = new LogitDistillationLoss { Temperature = t }.Compute(student, teacher)[0];
            Assert.Equal(expected / 2 * t * t, loss, 5);
        }

        Assert.Equal(0f, new LogitDistillationLoss().Compute(teacher, teacher)[0], 6);
    }

    [Fact]
    public void FeatureDistillationComparesDirectionsNotLengths()
    {
        var a = Tensor.FromArray(new[] { 3f, 4f }, 1, 2);
        Assert.Equal(0f, new FeatureDistillationLoss().Compute(a, Tensor.FromArray(new[] { 0.3f, 0.4f }, 1, 2))[0], 6);

        // (0.6, 0.8) against (1, 0): mean of 0.16 and 0.64.
        Assert.Equal(0.4f, new FeatureDistillationLoss().Compute(a, Tensor.FromArray(new[] { 2f, 0f }, 1, 2))[0], 5);
    }

    [Fact]
    public void TeacherGetsNoGradient()
    {
        var student = Tensor.FromArray(new[] { 1f, 2f, 0f }, 1, 3);
        var teacher = Tensor.FromArray(new[] { 0f, 2f, 1f }, 1, 3);
        student.RequiresGrad = true;
        teacher.RequiresGrad = true;
        using var tape = GradientTape.Begin();
        tape.Backward(Ops.Add(new LogitDistillationLoss().Compute(student, teacher), new FeatureDistillationLoss().Compute(student, teacher)));
        Assert.NotNull(student.Grad);
        Assert.Null(teacher.Grad);
    }

    private static double[] Softmax(double[] x)
    {
        var max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }
}
