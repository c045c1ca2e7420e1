using System.Globalization;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Engine;

/// <summary>
/// How much memory a run on a device can still take: on the CPU the kernel's estimate of what can be allocated
/// without swapping (<c>MemAvailable</c>), lowered to what the process's control group allows; on CUDA the device's
/// free memory as its driver reports it. Null where the system does not say (the run is then not checked).
/// </summary>
public static class AvailableMemory
{
    /// <summary>Bytes available to a run on <paramref name="device"/>, or null when unknown.</summary>
    public static long? For(Device device) => device.type switch
    {
        TorchSharp.DeviceType.CPU => Host(),
        TorchSharp.DeviceType.CUDA => CudaDriver.FreeBytes(device.index < 0 ? 0 : device.index),
        _ => null,
    };

    /// <summary>The host's available memory: <c>MemAvailable</c>, within the control group's limit (v2 or v1).</summary>
    public static long? Host()
    {
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere .NET's view of the machine (or container) limit less what is in use is the best cheap figure.
            var info = GC.GetGCMemoryInfo();
            return info.TotalAvailableMemoryBytes > 0 ? info.TotalAvailableMemoryBytes - info.MemoryLoadBytes : null;
        }

        var available = ReadMeminfo("/proc/meminfo", "MemAvailable");
        var group = ControlGroupHeadroom();
        return available is { } a && group is { } g ? Math.Min(a, g) : available ?? group;
    }

    /// <summary>A field of <c>/proc/meminfo</c> in bytes (the file states kB).</summary>
    internal static long? ReadMeminfo(string path, string field)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal)
                && long.TryParse(line[(field.Length + 1)..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
            {
                return kb * 1024;
            }
        }

        return null;
    }

    // The control group's limit less what it uses, not counting reclaimable file cache; null without a limit.
    private static long? ControlGroupHeadroom()
    {
        // cgroup v2 (the process's own group, from /proc/self/cgroup's "0::PATH"), then v1's memory controller.
        var v2 = File.Exists("/proc/self/cgroup")
            ? File.ReadLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..]
            : null;
        if (v2 is not null && Headroom($"/sys/fs/cgroup{v2.TrimEnd('/')}", "memory.max", "memory.current", "inactive_file") is { } unified)
        {
            return unified;
        }

        return Headroom("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file");
    }

    private static long? Headroom(string folder, string limitFile, string usageFile, string reclaimableField)
    {
        if (Number(Path.Combine(folder, limitFile)) is not { } limit || limit >= long.MaxValue / 2 || Number(Path.Combine(folder, usageFile)) is not { } usage)
        {
            return null;
        }

        var statPath = Path.Combine(folder, "memory.stat");
        var reclaimable = File.Exists(statPath)
            ? File.ReadLines(statPath).Select(l => l.Split(' ')).Where(p => p.Length == 2 && p[0] == reclaimableField).Select(p => Number(p[1], text: true) ?? 0).FirstOrDefault()
            : 0;
        return Math.Max(0, limit - (usage - reclaimable));
    }

    private static long? Number(string pathOrText, bool text = false)
    {
        var value = text ? pathOrText : File.Exists(pathOrText) ? File.ReadAllText(pathOrText).Trim() : null;
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>
    /// The CUDA driver's free-memory query (TorchSharp 0.107 exposes none), in the device's primary context — the one
    /// libtorch's runtime uses, so no context is created. Null where the driver library is absent or a call fails.
    /// </summary>
    private static class CudaDriver
    {
        private delegate int Init(uint flags);
        private delegate int DeviceGet(out int device, int ordinal);
        private delegate int PrimaryContextRetain(out IntPtr context, int device);
        private delegate int PrimaryContextRelease(int device);
        private delegate int ContextPush(IntPtr context);
        private delegate int ContextPop(out IntPtr context);
        private delegate int MemoryInfo(out nuint free, out nuint total);

        public static long? FreeBytes(int ordinal)
        {
            if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", out var library))
            {
                return null;
            }

            T Export<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(library, name));
            try
            {
                if (Export<Init>("cuInit")(0) != 0 || Export<DeviceGet>("cuDeviceGet")(out var device, ordinal) != 0
                    || Export<PrimaryContextRetain>("cuDevicePrimaryCtxRetain")(out var context, device) != 0)
                {
                    return null;
                }

                try
                {
                    if (Export<ContextPush>("cuCtxPushCurrent_v2")(context) != 0)
                    {
                        return null;
                    }

                    var status = Export<MemoryInfo>("cuMemGetInfo_v2")(out var free, out _);
                    Export<ContextPop>("cuCtxPopCurrent_v2")(out _);
                    return status == 0 ? (long)free : null;
                }
                finally
                {
                    Export<PrimaryContextRelease>("cuDevicePrimaryCtxRelease_v2")(device);
                }
            }
            catch (EntryPointNotFoundException)
            {
                return null;
            }
        }
    }
}
