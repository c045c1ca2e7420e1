using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>The token cut loss and its parts.</summary>
/// <param name="Total">Σ over idle layers of weight · (the variant's terms), a scalar.</param>
/// <param name="Inter">Each idle layer's inter term, a scalar.</param>
/// <param name="Intra">Each idle layer's intra term, a scalar.</param>
/// <param name="IdleLayers">Number of idle layers (the divisor of the IdleViT objective).</param>
public sealed record CutLossResult(Tensor Total, IReadOnlyList<Tensor> Inter, IReadOnlyList<Tensor> Intra, int IdleLayers);
