using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>timm's transformer MLP: <c>fc1</c>, exact GELU, <c>fc2</c>.</summary>
public sealed class Mlp : Module
{
    /// <summary>Creates the layer.</summary>
    public Mlp(int dim, int hidden, Random random)
    {
        Fc1 = Child("fc1", new Linear(dim, hidden, true, random));
        Fc2 = Child("fc2", new Linear(hidden, dim, true, random));
    }

    /// <summary>E → hidden.</summary>
    public Linear Fc1 { get; }

    /// <summary>hidden → E.</summary>
    public Linear Fc2 { get; }

    /// <summary>Applies the MLP to x [..., E].</summary>
    public Tensor Forward(Tensor x) => Fc2.Forward(Ops.Gelu(Fc1.Forward(x)));
}
