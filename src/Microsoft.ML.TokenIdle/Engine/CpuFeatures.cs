using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.TokenIdle.Engine;

/// <summary>
/// What the CPU offers the engines' kernels, so that every throughput figure says what it was measured on: the model
/// name and the instruction sets that decide float32, bfloat16, float16 and int8 speed (AVX2, AVX-512, AVX512-VNNI,
/// AVX512-BF16, AVX512-FP16, AMX). .NET reports the vector sets it uses itself; the rest (AMX, BF16, FP16) and the
/// model name come from /proc/cpuinfo on Linux, and are absent elsewhere.
/// </summary>
public static class CpuFeatures
{
    private static readonly string[] Known = { "avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8" };
    private static readonly Lazy<(string Model, IReadOnlyList<string> Features)> Probe = new(Read);

    /// <summary>The CPU's model name, e.g. <c>Intel(R) Xeon(R) Processor</c>; <c>unknown</c> where the system does not say.</summary>
    public static string Model => Probe.Value.Model;

    /// <summary>The instruction sets present among avx2, avx512f, avx512_vnni, avx512_bf16, avx512_fp16, amx_bf16, amx_int8.</summary>
    public static IReadOnlyList<string> Features => Probe.Value.Features;

    /// <summary>Parses <c>/proc/cpuinfo</c>'s text: the first model name and the flags of interest.</summary>
    internal static (string Model, IReadOnlyList<string> Flags) ParseCpuInfo(string text)
    {
        string? model = null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            if (key == "model name" && model is null)
            {
                model = line[(colon + 1)..].Trim();
            }
            else if (key == "flags" && flags.Count == 0)
            {
                flags.UnionWith(line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return (model ?? "unknown", Known.Where(flags.Contains).ToList());
    }

    private static (string Model, IReadOnlyList<string> Features) Read()
    {
        var (model, flags) = File.Exists("/proc/cpuinfo") ? ParseCpuInfo(File.ReadAllText("/proc/cpuinfo")) : ("unknown", Array.Empty<string>());
        // .NET's own detection covers systems without /proc/cpuinfo for the sets it knows.
        var features = Known.Where(n => flags.Contains(n) || (n == "avx2" && Avx2.IsSupported) || (n == "avx512f" && Avx512F.IsSupported)).ToList();
        return (model, features);
    }
}
