using TorchSharp;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// The number format a model computes in when it scores: a property of how it runs, not of its stored weights (model
/// zips keep float32 weights and this as a field). Inputs go in and probabilities come out as float32 whatever it is.
/// </summary>
public enum Precision
{
    /// <summary>float32: the reference; the fastest choice on CPUs without AMX or AVX512-BF16.</summary>
    Float32,

    /// <summary>
    /// bfloat16 (float32's range, 8 significant bits): oneDNN runs its products on AMX or AVX512-BF16 where the CPU has
    /// them, and on tensor cores on CUDA.
    /// </summary>
    BFloat16,

    /// <summary>float16 (11 significant bits, range ±65504): for CUDA; the CPU libtorch has no fast float16 path.</summary>
    Float16,
}

/// <summary>Names and tensor types of <see cref="Precision"/> values.</summary>
internal static class Precisions
{
    /// <summary>The names the CLI takes and prints: <c>float32</c>, <c>bfloat16</c>, <c>float16</c>.</summary>
    public static string Name(this Precision precision) => precision switch
    {
        Precision.BFloat16 => "bfloat16",
        Precision.Float16 => "float16",
        _ => "float32",
    };

    /// <summary>The tensor element type.</summary>
    public static torch.ScalarType ScalarType(this Precision precision) => precision switch
    {
        Precision.BFloat16 => torch.ScalarType.BFloat16,
        Precision.Float16 => torch.ScalarType.Float16,
        _ => torch.ScalarType.Float32,
    };

    /// <summary>The precision named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static Precision Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float32" => Precision.Float32,
        "bfloat16" => Precision.BFloat16,
        "float16" => Precision.Float16,
        _ => throw new ArgumentException($"precision '{name}' is not one of float32, bfloat16, float16"),
    };
}
