namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The tokens between two blocks of an ONNX graph, as <see cref="TokenState"/> is in the forward pass: the value's name
/// ([B, N, E], class token first), N, and the per-token priority [B, N] a selector attached (life regression's lives), if any.
/// </summary>
/// <param name="X">The tokens' value in the graph.</param>
/// <param name="Count">N, every token counted (class and fused ones included).</param>
/// <param name="Priority">The priorities' value, or null.</param>
internal sealed record OnnxTokens(string X, long Count, string? Priority = null);
