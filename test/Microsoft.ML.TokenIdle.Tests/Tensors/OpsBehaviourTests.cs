using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Tests.Tensors;

public class OpsBehaviourTests
{
    [Fact]
    public void TopKOrdersDescendingWithTiesByLowerIndex()
    {
        var x = Tensor.FromArray(new[] { 1f, 5f, 3f, 5f, -2f, 0f, 0f, 9f }, 2, 4);
        var (values, indices) = Ops.TopK(x, 3);
        Assert.Equal(new[] { 1, 3, 2, 3, 1, 2 }, indices);
        Assert.Equal(new[] { 5f, 5f, 3f, 9f, 0f, 0f }, values.ToArray());
        Assert.Equal(new[] { 1, 3, 2, 0, 3, 1, 2, 0 }, Ops.ArgSortDescending(x));
    }

    [Fact]
    public void DropPathZeroesWholeSamplesAndScalesSurvivors()
    {
        var x = Tensor.Full(1f, 64, 3);
        var y = Ops.DropPath(x, 0.5f, new Random(3)).ToArray();
        for (var b = 0; b < 64; b++)
        {
            Assert.True(y[3 * b] is 0f or 2f);
            Assert.Equal(y[3 * b], y[3 * b + 2]);
        }

        Assert.Contains(0f, y);
        Assert.Contains(2f, y);
    }

    [Fact]
    public void BadShapesNameBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Ops.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[4,5]", e.Message);
        Assert.Throws<ArgumentException>(() => Ops.Add(Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)));
        Assert.Throws<ArgumentException>(() => Ops.Reshape(Tensor.Zeros(2, 3), 4, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Gather(Tensor.Zeros(1, 3, 2), 1, new[] { 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CrossEntropy(Tensor.Zeros(1, 3), new[] { 3 }));
    }

    [Fact]
    public void ScopeReturnsMemoryAndRejectsUseAfterwards()
    {
        Tensor inner;
        Tensor kept;
        using (var scope = TensorScope.Begin())
        {
            inner = Ops.Scale(Tensor.Full(1f, 8), 2f);
            kept = scope.Keep(Ops.Scale(inner, 2f));
        }

        Assert.Equal(4f, kept.Data[0]);
        var error = Assert.Throws<ObjectDisposedException>(() => inner.Data[0]);
        Assert.Contains("TensorScope", error.Message);
        using var tape = GradientTape.Begin();
        Assert.Throws<InvalidOperationException>(TensorScope.Begin);
    }

    [Fact]
    public void BackwardWithoutDifferentiableInputsIsAnError()
    {
        using var tape = GradientTape.Begin();
        var loss = Ops.Sum(Tensor.Full(1f, 3));
        Assert.Throws<InvalidOperationException>(() => tape.Backward(loss));
    }

    [Fact]
    public void LogSigmoidIsFiniteForLargeInputs()
    {
        var y = Ops.LogSigmoid(Tensor.FromArray(new[] { -200f, -1f, 0f, 1f, 200f }, 5)).ToArray();
        Assert.Equal(-200f, y[0], 3);
        Assert.Equal(MathF.Log(1f / (1f + MathF.E)), y[1], 5);
        Assert.Equal(-MathF.Log(2f), y[2], 6);
        Assert.Equal(0f, y[4]);
    }

    [Fact]
    public void MatMulChecksItsShapes()
    {
        var y = Ops.MatMul(Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 1, 2, 2), Tensor.FromArray(new[] { 1f, 0f, 1f, 1f }, 1, 2, 2), transposeB: true);
        Assert.Equal(new[] { 1f, 3f, 3f, 7f }, y.ToArray());
        var e = Assert.Throws<ArgumentException>(() => Ops.MatMul(Tensor.Zeros(2, 3, 4), Tensor.Zeros(2, 5, 4)));
        Assert.Contains("[2,3,4]", e.Message);
        Assert.Contains("[2,5,4]", e.Message);
    }
}
