using System.CommandLine;
using Microsoft.ML.TokenIdle.Onnx;

namespace TokenIdle.Cli.Commands;

/// <summary>The <c>--quantize</c> option of the ONNX export and of scoring with <c>--runtime onnxruntime</c>.</summary>
internal static class QuantizationOption
{
    public const string None = "none";
    public const string Int8 = "int8";

    public static Option<string> Create() => new("--quantize")
    {
        Description = $"weight products of the ONNX graph: {None} (float32) or {Int8} (int8 weights per output channel, activations quantised at run time; token selection stays float32)",
        DefaultValueFactory = _ => None,
    };

    /// <summary>The option's value as an <see cref="OnnxQuantization"/>.</summary>
    /// <exception cref="ArgumentException">Another value.</exception>
    public static OnnxQuantization Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        None => OnnxQuantization.None,
        Int8 => OnnxQuantization.DynamicInt8,
        _ => throw new ArgumentException($"--quantize '{value}' is not one of {None}, {Int8}"),
    };

    /// <summary>The name <paramref name="quantization"/> has on the command line and in the CLI's JSON.</summary>
    public static string Name(OnnxQuantization quantization) => quantization == OnnxQuantization.DynamicInt8 ? Int8 : None;
}
