namespace Microsoft.ML.TokenIdle.Onnx;

/// <summary>What the exported graph's input holds. Resizing always happens outside the graph (ONNX has no antialiased resize matching timm's).</summary>
public enum OnnxInputPixels
{
    /// <summary>Pixels already normalised with the model's mean and standard deviation, as the TorchSharp model takes them.</summary>
    Normalized,

    /// <summary>
    /// RGB channel planes of values 0–255, as ML.NET's <c>ExtractPixels</c> gives them by default; the graph divides
    /// by 255 and normalises with the model's mean and standard deviation.
    /// </summary>
    Bytes,

    /// <summary>RGB channel planes of values 0–1; the graph normalises with the model's mean and standard deviation.</summary>
    UnitRange,
}
