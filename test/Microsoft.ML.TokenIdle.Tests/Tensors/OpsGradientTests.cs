using Microsoft.ML.TokenIdle.Tensors;
using static Microsoft.ML.TokenIdle.Tests.Tensors.GradientCheck;

namespace Microsoft.ML.TokenIdle.Tests.Tensors;

public class OpsGradientTests
{
    [Fact]
    public void Linear() => Check(x => Ops.Linear(x[0], x[1], x[2]), Random(1, 2, 3, 5), Random(2, 4, 5), Random(3, 4));

    [Fact]
    public void AddBroadcastsLikePositionEmbedding() => Check(x => Ops.Add(x[0], x[1]), Random(1, 2, 3, 4), Random(2, 1, 3, 4));

    [Fact]
    public void MulBroadcastsLikeTokenMask() => Check(x => Ops.Mul(x[0], x[1]), Random(1, 2, 3, 4), Random(2, 2, 3, 1));

    [Fact]
    public void MulSameShape() => Check(x => Ops.Mul(x[0], x[1]), Random(1, 3, 4), Random(2, 3, 4));

    [Fact]
    public void Scale() => Check(x => Ops.Scale(x[0], -2.5f), Random(1, 3, 4));

    [Fact]
    public void LayerNorm() => Check(x => Ops.LayerNorm(x[0], x[1], x[2], 1e-6f), Random(1, 2, 3, 8), Random(2, 8), Random(3, 8));

    [Fact]
    public void Gelu() => Check(x => Ops.Gelu(Ops.Scale(x[0], 3f)), Random(1, 4, 40));

    [Fact]
    public void Softmax() => Check(x => Ops.Softmax(Ops.Scale(x[0], 2f)), Random(1, 3, 7));

    [Fact]
    public void LogSoftmax() => Check(x => Ops.LogSoftmax(Ops.Scale(x[0], 2f)), Random(1, 3, 7));

    [Fact]
    public void AttentionOutputAndProbabilitiesWithKeyMask()
    {
        var mask = Tensor.Zeros(2, 5);
        mask.Data[3] = -1e5f;
        mask.Data[6] = -1e5f;
        Check(x =>
        {
            var (o, p) = Ops.Attention(x[0], 2, mask);
            return new[] { o, p };
        }, Random(1, 2, 5, 3 * 8));
    }

    [Fact]
    public void ReshapePermuteTranspose()
        => Check(x => Ops.Transpose(Ops.Permute(Ops.Reshape(x[0], 2, 3, -1), 2, 0, 1), 0, 2), Random(1, 2, 12));

    [Fact]
    public void SliceAndConcat()
        => Check(x => Ops.Concat(1, Ops.Slice(x[0], 1, 1, 2), x[1], Ops.Slice(x[0], 1, 0, 1)), Random(1, 2, 4, 3), Random(2, 2, 2, 3));

    [Fact]
    public void GatherRowsWithRepeats() => Check(x => Ops.Gather(x[0], 1, new[] { 3, 0, 3, 1, 2, 2 }), Random(1, 2, 4, 5));

    [Fact]
    public void ScatterRows() => Check(x => Ops.Scatter(x[0], 1, new[] { 3, 0, 1, 2 }, x[1]), Random(1, 2, 5, 3), Random(2, 2, 2, 3));

    [Fact]
    public void TopKValues()
    {
        // Entries 0.1 apart, so a finite-difference step never changes the selection.
        var order = Enumerable.Range(0, 36).OrderBy(i => (i * 17) % 36).Select(i => i * 0.1f).ToArray();
        Check(x => Ops.TopK(x[0], 3).Values, Tensor.FromArray(order, 4, 9));
    }

    [Fact]
    public void SumAndMeanAlongAxes() => Check(x => new[] { Ops.Sum(x[0], 1), Ops.Mean(x[0], 2, keepDim: true), Ops.Mean(x[0]) }, Random(1, 2, 3, 4));

    [Fact]
    public void Patchify() => Check(x => Ops.Patchify(x[0], 2), Random(1, 2, 3, 4, 6));

    [Fact]
    public void DropoutAndDropPathWithFixedMasks()
        => Check(x => new[] { Ops.Dropout(x[0], 0.3f, new Random(5)), Ops.DropPath(x[0], 0.5f, new Random(6)) }, Random(1, 4, 3, 5));

    [Fact]
    public void CrossEntropy() => Check(x => Ops.CrossEntropy(Ops.Scale(x[0], 3f), new[] { 2, 0, 4 }), Random(1, 3, 5));

    [Fact]
    public void AttentionWithSoftKeyWeightsReachesTheWeights()
        => Check(x =>
        {
            var (o, p) = Ops.Attention(x[0], 2, Ops.LogSigmoid(Ops.Scale(x[1], 2f)));
            return new[] { o, p };
        }, Random(1, 2, 5, 3 * 8), Random(2, 2, 5));

    [Fact]
    public void MatMul() => Check(x => Ops.MatMul(x[0], x[1]), Random(1, 2, 3, 4), Random(2, 2, 4, 5));

    [Fact]
    public void MatMulTransposed() => Check(x => Ops.MatMul(x[0], x[1], transposeB: true), Random(1, 2, 3, 4), Random(2, 2, 5, 4));

    [Fact]
    public void UnaryFunctions()
        => Check(x => new[]
        {
            Ops.Sqrt(Ops.Add(Ops.Mul(x[0], x[0]), Ops.Scalar(0.5f))),
            Ops.Reciprocal(Ops.Add(Ops.Mul(x[0], x[0]), Ops.Scalar(0.5f))),
            Ops.ClampMin(Ops.Scale(x[0], 3f), 0.35f),
            Ops.LogSigmoid(Ops.Scale(x[0], 8f)),
        }, Random(1, 3, 7));

    [Fact]
    public void L2Normalize() => Check(x => Ops.L2Normalize(x[0]), Random(1, 3, 6));
}
