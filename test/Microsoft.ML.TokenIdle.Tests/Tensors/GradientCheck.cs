using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Tests.Tensors;

/// <summary>
/// Compares the tape's gradient of L = Σ f(inputs)·R (R fixed random weights) with central finite
/// differences, in float32 with a step of 1e-2 on sampled elements of every input.
/// </summary>
internal static class GradientCheck
{
    public static Tensor Random(int seed, params int[] shape)
    {
        var random = new Random(seed);
        var t = Tensor.Zeros(shape);
        for (var i = 0; i < t.Length; i++)
        {
            t.Data[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return t;
    }

    public static void Check(Func<Tensor[], Tensor[]> f, params Tensor[] inputs)
    {
        var outputs = f(inputs);
        var weights = outputs.Select((o, i) => Random(100 + i, o.ShapeArray.ToArray())).ToArray();
        float Loss()
        {
            var outs = f(inputs);
            double sum = 0;
            for (var o = 0; o < outs.Length; o++)
            {
                for (var i = 0; i < outs[o].Length; i++)
                {
                    sum += (double)outs[o].Data[i] * weights[o].Data[i];
                }
            }

            return (float)sum;
        }

        foreach (var x in inputs)
        {
            x.RequiresGrad = true;
            x.Grad = null;
        }

        using (var tape = GradientTape.Begin())
        {
            var outs = f(inputs);
            Tensor? total = null;
            for (var o = 0; o < outs.Length; o++)
            {
                var term = Ops.Sum(Ops.Mul(outs[o], weights[o]));
                total = total is null ? term : Ops.Add(total, term);
            }

            tape.Backward(total!);
        }

        var random = new Random(7);
        for (var n = 0; n < inputs.Length; n++)
        {
            var x = inputs[n];
            Assert.True(x.Grad is not null, $"input {n} received no gradient");
            var samples = Math.Min(x.Length, 24);
            for (var s = 0; s < samples; s++)
            {
                var i = x.Length <= 24 ? s : random.Next(x.Length);
                const float eps = 1e-2f;
                var saved = x.Data[i];
                x.Data[i] = saved + eps;
                var up = Loss();
                x.Data[i] = saved - eps;
                var down = Loss();
                x.Data[i] = saved;
                var numeric = (up - down) / (2 * eps);
                var analytic = x.Grad!.Data[i];
                Assert.True(
                    MathF.Abs(numeric - analytic) <= 1e-2f * MathF.Max(1f, MathF.Abs(numeric)),
                    $"input {n} element {i}: analytic {analytic} vs numeric {numeric}");
            }
        }
    }

    public static void Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(x => new[] { f(x) }, inputs);
}
