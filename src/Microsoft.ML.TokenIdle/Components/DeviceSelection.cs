using Microsoft.ML.Runtime;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Chooses where a trainer or a loaded model runs, with the semantics of ML.NET's TorchSharp components:
/// an explicit <c>Device</c> option (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>) wins, else the context's
/// <c>GpuDeviceId</c> (null: CPU). A GPU request that cannot be served fails with ML.NET's message unless
/// the context's <c>FallbackToCpu</c> is set, which logs a warning and uses the CPU.
/// </summary>
internal static class DeviceSelection
{
    /// <summary>The device to use, "cpu" in this build (its engine has no GPU backend).</summary>
    /// <exception cref="ArgumentException">The device text is not cpu, cuda or cuda:N.</exception>
    /// <exception cref="InvalidOperationException">A GPU was asked for and falling back to the CPU is not allowed.</exception>
    public static string Select(IHostEnvironment env, IChannel channel, string? device)
    {
        var settings = env as IHostEnvironmentInternal;
        var requested = device is null ? (settings?.GpuDeviceId is { } id ? $"cuda:{id}" : "cpu") : Parse(device);
        if (requested == "cpu")
        {
            return requested;
        }

        if (settings?.FallbackToCpu != true)
        {
            throw new InvalidOperationException($"Fallback to CPU is false but no GPU detected: {requested} was requested and this build's engine runs on the CPU only (set MLContext.FallbackToCpu = true to run there)");
        }

        channel.Warning($"{requested} was requested but no GPU can be used (this build's engine runs on the CPU only); falling back to the CPU");
        return "cpu";
    }

    private static string Parse(string device)
    {
        var text = device.Trim().ToLowerInvariant();
        if (text is "cpu" or "cuda")
        {
            return text == "cuda" ? "cuda:0" : text;
        }

        if (text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            return text;
        }

        throw new ArgumentException($"device '{device}' is not one of cpu, cuda, cuda:N");
    }
}
