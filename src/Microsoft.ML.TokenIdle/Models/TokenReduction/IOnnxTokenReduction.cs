namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>A reduction's ONNX piece: what <see cref="ITokenReduction.Run"/> computes in evaluation mode, written into the graph.</summary>
internal interface IOnnxTokenReduction
{
    /// <summary>Block <paramref name="layer"/> on <paramref name="tokens"/> at <paramref name="ratio"/> (1 = the plain block), choosing tokens with <paramref name="selector"/>.</summary>
    OnnxTokens WriteBlock(IOnnxNetworkWriter writer, Nn.Block block, int layer, double ratio, OnnxTokens tokens, IOnnxTokenSelector selector);
}
