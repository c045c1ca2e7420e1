using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>y = x·Wᵀ + b with <c>weight</c> [out, in] and <c>bias</c> [out]; initialised as timm's ViT (truncated normal 0.02, zero bias).</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias, Random random)
    {
        Weight = Parameter("weight", Init.TruncatedNormal(random, 0.02f, new[] { outFeatures, inFeatures }));
        Bias = bias ? Parameter("bias", Tensor.Zeros(outFeatures)) : null;
    }

    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Applies the layer to x [..., in].</summary>
    public Tensor Forward(Tensor x) => Ops.Linear(x, Weight, Bias);
}
