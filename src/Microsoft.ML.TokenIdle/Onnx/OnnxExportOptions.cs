namespace Microsoft.ML.TokenIdle.Onnx;

/// <summary>Options of an ONNX export (<see cref="VisionTransformerClassifier.ExportToOnnx"/>).</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The lowest opset the graph needs (LayerNormalization) and the default.</summary>
    public const int MinimumOpset = 17;

    /// <summary>The default domain's opset the graph declares: 17 or later.</summary>
    public int Opset { get; set; } = MinimumOpset;

    /// <summary>The input's name: float32 <c>[batch, channels, size, size]</c>, the batch axis dynamic.</summary>
    public string InputName { get; set; } = "pixels";

    /// <summary>What the input holds; <see cref="OnnxInputPixels.Normalized"/> by default.</summary>
    public OnnxInputPixels InputPixels { get; set; } = OnnxInputPixels.Normalized;

    /// <summary>The logits output's name: float32 <c>[batch, classes]</c>.</summary>
    public string LogitsName { get; set; } = "logits";

    /// <summary>How weight products are computed; <see cref="OnnxQuantization.None"/> (float32) by default.</summary>
    public OnnxQuantization Quantization { get; set; } = OnnxQuantization.None;

    /// <summary>When set, a second output of this name holds the softmax probabilities (what ML.NET's Score column holds).</summary>
    public string? ProbabilitiesName { get; set; } = "probabilities";
}
