using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>timm's MLP: <c>fc1</c> (E → hidden), exact (erf) GELU, <c>fc2</c> (hidden → E).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer, initialised from <paramref name="generator"/> (null: no draw, for weights about to be loaded).</summary>
    public Mlp(int dim, int hidden, Generator? generator)
        : base(nameof(Mlp))
    {
        Fc1 = nn.Linear(dim, hidden, device: CPU, dtype: ScalarType.Float32);
        Fc2 = nn.Linear(hidden, dim, device: CPU, dtype: ScalarType.Float32);
        TimmInit.Linear(Fc1, generator);
        TimmInit.Linear(Fc2, generator);
        RegisterComponents();
    }

    /// <summary>E → hidden.</summary>
    [field: ComponentName(Name = "fc1")]
    public Linear Fc1 { get; }

    /// <summary>hidden → E.</summary>
    [field: ComponentName(Name = "fc2")]
    public Linear Fc2 { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => MixedPrecision.Linear(Fc2, nn.functional.gelu(MixedPrecision.Linear(Fc1, x)));
}
