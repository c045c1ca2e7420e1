using Microsoft.ML.TokenIdle.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Engine;

/// <summary>What a run may still take: the kernel's MemAvailable within the control group's limit.</summary>
public sealed class AvailableMemoryTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("meminfo");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void MeminfoFieldsAreReadInBytes()
    {
        var path = Path.Combine(_dir.FullName, "meminfo");
        File.WriteAllText(path, "MemTotal:       24683812 kB\nMemFree:        15119236 kB\nMemAvailable:   22519560 kB\n");
        Assert.Equal(22519560L * 1024, AvailableMemory.ReadMeminfo(path, "MemAvailable"));
        Assert.Null(AvailableMemory.ReadMeminfo(path, "SwapTotal"));
        Assert.Null(AvailableMemory.ReadMeminfo(Path.Combine(_dir.FullName, "absent"), "MemAvailable"));
    }

    [Fact]
    public void TheHostHasSomeMemoryAvailableAndNoMoreThanItHas()
    {
        var available = AvailableMemory.For(CPU);
        Assert.NotNull(available);
        Assert.InRange(available!.Value, 1L << 20, AvailableMemory.ReadMeminfo("/proc/meminfo", "MemTotal")!.Value);
    }
}
