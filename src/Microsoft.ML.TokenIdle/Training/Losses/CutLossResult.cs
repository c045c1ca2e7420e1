using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>The token cut loss and its parts.</summary>
/// <param name="Total">Σ over idle layers of weight · (the variant's terms), shape [1].</param>
/// <param name="Inter">Each idle layer's inter term, shape [1].</param>
/// <param name="Intra">Each idle layer's intra term, shape [1].</param>
/// <param name="IdleLayers">Number of idle layers (the divisor of the IdleViT objective).</param>
public sealed record CutLossResult(Tensor Total, IReadOnlyList<Tensor> Inter, IReadOnlyList<Tensor> Intra, int IdleLayers);
