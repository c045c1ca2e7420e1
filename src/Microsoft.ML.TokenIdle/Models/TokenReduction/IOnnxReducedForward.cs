namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>A method's ONNX piece: the graph form of its blocks, written with the exporter's layers.</summary>
internal interface IOnnxReducedForward
{
    /// <summary>Every block of <paramref name="model"/> from the embedded <paramref name="tokens"/>: the tokens after the last one.</summary>
    /// <exception cref="ArgumentException">A part of the method has no graph form, or the method does not fit the model.</exception>
    OnnxTokens WriteBlocks(IOnnxNetworkWriter writer, VisionTransformer model, OnnxTokens tokens);
}
