using Microsoft.ML.TokenIdle.Engine;

namespace Microsoft.ML.TokenIdle.Tests.Engine;

public sealed class CpuFeaturesTests
{
    [Fact]
    public void CpuInfoGivesTheModelAndTheSetsThatDecideSpeed()
    {
        const string text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8\n\nprocessor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n";
        var (model, flags) = CpuFeatures.ParseCpuInfo(text);
        Assert.Equal("Intel(R) Xeon(R) Platinum 8480+", model);
        Assert.Equal(new[] { "avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8" }, flags);
        Assert.Equal(("unknown", 0), (CpuFeatures.ParseCpuInfo("nothing here").Model, CpuFeatures.ParseCpuInfo("nothing here").Flags.Count));
    }

    [Fact]
    public void ThisMachinesFeaturesIncludeWhatDotnetDetects()
    {
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, CpuFeatures.Features.Contains("avx2"));
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, CpuFeatures.Features.Contains("avx512f"));
        Assert.False(string.IsNullOrWhiteSpace(CpuFeatures.Model));
    }
}
