namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>Direction of <see cref="IComputeBackend.Gather"/>.</summary>
public enum IndexMode
{
    /// <summary>Read indexed rows of x into y.</summary>
    Gather,

    /// <summary>Write y into the indexed rows of x, replacing them.</summary>
    Scatter,

    /// <summary>Add y into the indexed rows of x (the gradient of a gather).</summary>
    ScatterAdd,
}

/// <summary>Element-wise binary operations of <see cref="IComputeBackend.BroadcastBinary"/>.</summary>
public enum BinaryOp
{
    /// <summary>a + b.</summary>
    Add,

    /// <summary>a * b.</summary>
    Multiply,
}

/// <summary>Element-wise unary functions of <see cref="IComputeBackend.Unary"/>.</summary>
public enum UnaryOp
{
    /// <summary>√x.</summary>
    Sqrt,

    /// <summary>1 / x.</summary>
    Reciprocal,

    /// <summary>max(x, arg).</summary>
    ClampMin,

    /// <summary>log σ(x) = −log(1 + e^−x), computed without overflow.</summary>
    LogSigmoid,
}

/// <summary>
/// The kernels behind <see cref="Ops"/>. Models never call a backend directly, so a GPU backend
/// implements this interface and every model runs on it unchanged. Shapes are checked by
/// <see cref="Ops"/> before a kernel runs; "accumulate" kernels add to what the output holds.
/// </summary>
public interface IComputeBackend
{
    /// <summary>The device this backend computes on.</summary>
    Device Device { get; }

    /// <summary>A zero-filled tensor on this device.</summary>
    Tensor Zeros(int[] shape);

    /// <summary>A tensor on this device whose contents the caller overwrites completely.</summary>
    Tensor Empty(int[] shape);

    /// <summary>
    /// Strided batched row-major GEMM: for each i &lt; batch,
    /// C_i = alpha·op(A_i)·op(B_i) + beta·C_i with op(A_i) [m,k], op(B_i) [k,n], C_i [m,n];
    /// X_i starts at element offX + i·strideX of X and has leading dimension ldX.
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, int offA, int lda, int strideA,
        Tensor b, int offB, int ldb, int strideB,
        float beta, Tensor c, int offC, int ldc, int strideC, int batch);

    /// <summary>y = a op b, where b broadcasts to a's shape (NumPy rules; y has a's shape).</summary>
    void BroadcastBinary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    /// <summary>Accumulates into db (b's shape) the sum, over the broadcast dimensions, of dy (times <paramref name="factor"/> when given; both of a's shape).</summary>
    void BroadcastReduceAccumulate(Tensor dy, Tensor? factor, Tensor db);

    /// <summary>y += alpha · x (same length).</summary>
    void Axpy(float alpha, Tensor x, Tensor y);

    /// <summary>y = alpha · x (same length).</summary>
    void Scale(float alpha, Tensor x, Tensor y);

    /// <summary>Adds a bias to every row of y ([rows, n] with bias [n]).</summary>
    void AddRowBias(Tensor y, Tensor bias);

    /// <summary>Accumulates the column sums of dy ([rows, n]) into dbias [n].</summary>
    void ColumnSumAccumulate(Tensor dy, Tensor dbias);

    /// <summary>Layer norm over the last dimension; writes per-row mean and 1/std for the backward pass.</summary>
    void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y, Tensor mean, Tensor rstd);

    /// <summary>Accumulates dx, dgamma and dbeta (each may be null when not needed).</summary>
    void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor? dx, Tensor? dgamma, Tensor? dbeta);

    /// <summary>y = op(x) element-wise (<paramref name="arg"/> is the operation's constant, where it has one).</summary>
    void Unary(UnaryOp op, float arg, Tensor x, Tensor y);

    /// <summary>dx += dy · op'(x), given the forward input x and output y.</summary>
    void UnaryBackward(UnaryOp op, float arg, Tensor dy, Tensor x, Tensor y, Tensor dx);

    /// <summary>y = GELU(x) in the exact erf form.</summary>
    void GeluForward(Tensor x, Tensor y);

    /// <summary>dx += dy · GELU'(x).</summary>
    void GeluBackward(Tensor dy, Tensor x, Tensor dx);

    /// <summary>Softmax (or log-softmax) over the last dimension.</summary>
    void SoftmaxForward(Tensor x, Tensor y, bool log);

    /// <summary>dx += the softmax (or log-softmax) backward of dy, given the forward output y.</summary>
    void SoftmaxBackward(Tensor dy, Tensor y, bool log, Tensor dx);

    /// <summary>
    /// Multi-head scaled dot-product attention on a packed [B,N,3E] qkv tensor (queries, keys, values
    /// by column blocks, heads inside each). Writes out [B,N,E] (heads concatenated) and the
    /// probabilities [B,H,N,N]. <paramref name="keyMask"/>, if given, is [B,N] and is added to every
    /// query row's logits before the softmax.
    /// </summary>
    void AttentionForward(Tensor qkv, int heads, float scale, Tensor? keyMask, Tensor output, Tensor probs);

    /// <summary>
    /// Accumulates dqkv from the output gradient (and, when given, a gradient arriving directly on the
    /// probabilities); when <paramref name="dKeyMask"/> is given, also the key mask's gradient [B,N]
    /// (the logits' gradient summed over heads and query rows).
    /// </summary>
    void AttentionBackward(Tensor qkv, int heads, float scale, Tensor probs, Tensor? dOutput, Tensor? dProbs, Tensor dqkv, Tensor? dKeyMask);

    /// <summary>y = x with its dimensions permuted (y's dimension i is x's dimension perm[i]).</summary>
    void Permute(Tensor x, int[] perm, Tensor y, bool accumulate);

    /// <summary>
    /// Copies x (viewed as [outer, len, inner]) into dst (viewed as [outer, dstLen, inner]) at
    /// position <paramref name="dstStart"/> of the middle axis, starting from <paramref name="srcStart"/>
    /// in x and taking <paramref name="count"/> entries; accumulates when asked.
    /// </summary>
    void CopyAlongAxis(Tensor x, int outer, int srcLen, int srcStart, int inner, Tensor dst, int dstLen, int dstStart, int count, bool accumulate);

    /// <summary>
    /// Moves rows between x viewed as [outer, len, inner] and y viewed as [outer, k, inner] through
    /// index[o·k + j]: y[o, j] = x[o, index] (gather), x[o, index] = y[o, j] (scatter) or
    /// x[o, index] += y[o, j] (scatter-add; an index may repeat).
    /// </summary>
    void Gather(Tensor x, int outer, int len, int inner, int[] index, int k, Tensor y, IndexMode mode);

    /// <summary>Rearranges images [B,C,H,W] into patch rows [B, G·G, C·P·P] (raster order of patches, channel-major inside), or adds back.</summary>
    void Patchify(Tensor images, int patch, Tensor patches, bool reverseAccumulate);

    /// <summary>y[o, i] = sum over the middle axis of x viewed as [outer, len, inner]; or, reversed, x += broadcast y.</summary>
    void SumAlongAxis(Tensor x, int outer, int len, int inner, Tensor y, bool reverseAccumulate);

    /// <summary>Σ x² over all elements, accumulated in double.</summary>
    double SquaredSum(Tensor x);

    /// <summary>
    /// One AdamW update in place: m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², p ← p·(1 − lr·wd) −
    /// lr·(m / c₁) / (√(v / c₂) + ε) with the bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ.
    /// </summary>
    void AdamWUpdate(Tensor parameter, Tensor gradient, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, float correction1, float correction2);

    /// <summary>Row-wise (last dimension) indices of the k largest values, largest first, ties by lower index.</summary>
    int[] TopKIndices(Tensor x, int k);
}
