namespace Microsoft.ML.TokenIdle.Onnx;

/// <summary>How the exported graph computes the network's weight products (docs/onnx.md, "int8").</summary>
public enum OnnxQuantization
{
    /// <summary>Every product in float32, as the TorchSharp model computes it.</summary>
    None,

    /// <summary>
    /// Every weight product of the network — each block's qkv, proj, fc1 and fc2 and the head — as a dynamically
    /// quantised product: int8 weights, symmetric per output channel in ±63 (7 bits, so that no x86 kernel saturates);
    /// activations quantised to uint8 per tensor at run time (<c>DynamicQuantizeLinear → MatMulInteger → Cast → Mul</c>,
    /// which ONNX Runtime's CPU provider fuses). Token selection, gathers, scatters, fusion, attention's
    /// activation-by-activation products, normalisation and the patch embedding stay float32.
    /// </summary>
    DynamicInt8,
}
