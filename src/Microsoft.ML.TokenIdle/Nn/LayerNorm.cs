using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>Layer normalisation over the last dimension with <c>weight</c> (ones) and <c>bias</c> (zeros).</summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer.</summary>
    public LayerNorm(int features, float eps)
    {
        Eps = eps;
        Weight = Parameter("weight", Tensor.Full(1f, features));
        Bias = Parameter("bias", Tensor.Zeros(features));
    }

    /// <summary>Added to the variance.</summary>
    public float Eps { get; }

    /// <summary>Gain [E].</summary>
    public Tensor Weight { get; }

    /// <summary>Shift [E].</summary>
    public Tensor Bias { get; }

    /// <summary>Normalises each row of x [..., E].</summary>
    public Tensor Forward(Tensor x) => Ops.LayerNorm(x, Weight, Bias, Eps);
}
