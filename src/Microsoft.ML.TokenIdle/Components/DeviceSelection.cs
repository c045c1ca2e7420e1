using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Chooses where a trainer or a loaded model runs, with the semantics of ML.NET's TorchSharp components:
/// an explicit <c>Device</c> option (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>) wins, else the context's
/// <c>GpuDeviceId</c> (null: CPU). A GPU request that cannot be served fails with ML.NET's message unless
/// the context's <c>FallbackToCpu</c> is set, which logs a warning and uses the CPU. A GPU is served when the
/// application brings a CUDA libtorch (TorchSharp-cuda-linux or -windows).
/// </summary>
internal static class DeviceSelection
{
    /// <summary>The device to use: the CPU, or a CUDA device when libtorch has one.</summary>
    /// <exception cref="ArgumentException">The device text is not cpu, cuda or cuda:N.</exception>
    /// <exception cref="InvalidOperationException">libtorch cannot load, or a GPU was asked for, libtorch has none, and falling back to the CPU is not allowed.</exception>
    public static Device Select(IHostEnvironment env, IChannel channel, string? device)
    {
        // Before the first use of torch: a libtorch that cannot load becomes one line, not a type initializer's stack.
        TorchEngine.EnsureLoaded();
        var settings = env as IHostEnvironmentInternal;
        var requested = device is null ? (settings?.GpuDeviceId is { } id ? $"cuda:{id}" : "cpu") : TorchEngine.ParseDevice(device);
        if (requested == "cpu")
        {
            return torch.CPU;
        }

        var devices = TorchEngine.CudaAvailable ? torch.cuda.device_count() : 0;
        // Parsed here: torch.device("cuda:N") initialises CUDA, which throws on a CPU-only libtorch.
        var index = int.Parse(requested.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
        if (index < devices)
        {
            return torch.device(requested);
        }

        var reason = devices == 0 ? "libtorch has no CUDA device" : $"libtorch sees {devices} CUDA device(s), cuda:0 to cuda:{devices - 1}";
        if (settings?.FallbackToCpu != true)
        {
            throw new InvalidOperationException($"Fallback to CPU is false but no GPU detected: {requested} was requested and {reason} (a CUDA build comes with TorchSharp-cuda-linux or -windows; set MLContext.FallbackToCpu = true to run on the CPU)");
        }

        channel.Warning($"{requested} was requested but {reason}; falling back to the CPU");
        return torch.CPU;
    }
}
