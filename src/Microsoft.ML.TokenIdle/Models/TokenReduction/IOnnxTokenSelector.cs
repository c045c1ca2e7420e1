namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>A selector's ONNX piece: what <see cref="ITokenSelector"/> computes in the forward pass, written into the graph.</summary>
internal interface IOnnxTokenSelector
{
    /// <summary>The graph form of <see cref="ITokenSelector.Prepare"/>: the tokens entering <paramref name="layer"/>, with a priority attached where the selector attaches one.</summary>
    OnnxTokens WritePrepare(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens);

    /// <summary>The graph form of <see cref="ITokenSelector.Score"/>: scores [B, N − 1] of the non-class tokens, from <paramref name="normed"/> (the block's norm1 of them).</summary>
    /// <exception cref="ArgumentException">The selector cannot score at this layer (life regression before its predictor has run).</exception>
    string WriteScores(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens, string normed, Nn.Attention attention, string prefix);
}
