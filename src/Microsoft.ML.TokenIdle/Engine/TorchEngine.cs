using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.TokenIdle.Engine;

/// <summary>
/// The tensor engine: TorchSharp over libtorch. The library references TorchSharp only; an application brings
/// the native libtorch (<c>libtorch-cpu-linux-x64</c>, <c>TorchSharp-cpu</c>, or <c>TorchSharp-cuda-linux</c>/
/// <c>-windows</c> for GPUs). <see cref="EnsureLoaded"/> turns a failure to load it into one line that names the
/// missing library and the fix.
/// </summary>
public static class TorchEngine
{
    private static readonly Lazy<Exception?> LoadFailure = new(Load);

    /// <summary>Loads libtorch once.</summary>
    /// <exception cref="InvalidOperationException">It cannot be loaded; the message says which library is missing and what to do.</exception>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
        {
            throw new InvalidOperationException(failure.Message, failure.InnerException);
        }
    }

    /// <summary>Sets libtorch's intra-op threads (the CLI's <c>--threads</c>).</summary>
    /// <exception cref="ArgumentException">Fewer than one thread.</exception>
    public static void SetThreads(int threads)
    {
        if (threads < 1)
        {
            throw new ArgumentException($"threads must be at least 1, got {threads}");
        }

        EnsureLoaded();
        torch.set_num_threads(threads);
    }

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> into a normalised device name (<c>cuda</c> becomes <c>cuda:0</c>).</summary>
    /// <exception cref="ArgumentException">Another text.</exception>
    public static string ParseDevice(string device)
    {
        var text = device.Trim().ToLowerInvariant();
        if (text is "cpu" or "cuda")
        {
            return text == "cuda" ? "cuda:0" : text;
        }

        return text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? text
            : throw new ArgumentException($"device '{device}' is not one of cpu, cuda, cuda:N");
    }

    /// <summary>
    /// A libtorch error's message without the native stack trace libtorch appends ("Exception raised from …",
    /// "frame #0: …"): what a user reads is the first part, e.g. "DefaultCPUAllocator: can't allocate memory: …".
    /// </summary>
    public static string WithoutNativeTrace(string message)
    {
        var cut = new[] { "Exception raised from ", "frame #0:" }.Select(marker => message.IndexOf(marker, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(message.Length).Min();
        return message[..cut].TrimEnd();
    }

    /// <summary>Whether libtorch has a usable CUDA device (false with a CPU-only libtorch).</summary>
    public static bool CudaAvailable
    {
        get
        {
            EnsureLoaded();
            return torch.cuda.is_available();
        }
    }

    // TorchSharp writes its multi-page load report to standard output before it throws, so the library is first
    // loaded here the way TorchSharp's regular load finds it; TorchSharp runs only once that works, or, when the file
    // is nowhere beside the application, with its output silenced (its NuGet-cache fallback may still succeed).
    private static Exception? Load()
    {
        var found = NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out _);
        if (!found && Diagnose() is { Final: true } located)
        {
            return new InvalidOperationException(located.Message);
        }

        var output = Console.Out;
        try
        {
            if (!found)
            {
                Console.SetOut(TextWriter.Null);
            }

            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or InvalidOperationException)
        {
            return new InvalidOperationException(Diagnose()?.Message ?? $"TorchSharp cannot start: {e.InnerException?.Message ?? e.Message}", e);
        }
        finally
        {
            Console.SetOut(output);
        }
    }

    // TorchSharp reports only "Failed to load native component"; loading the file ourselves gets the loader's reason.
    // Null when the file loads (the failure is elsewhere); Final when it is there but cannot load (TorchSharp cannot do better).
    private static (string Message, bool Final)? Diagnose()
    {
        var file = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "LibTorchSharp.dll" : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        var native = new[] { Path.Combine(AppContext.BaseDirectory, file), Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file) }
            .Concat(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes")) ? Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "runtimes"), file, SearchOption.AllDirectories) : Array.Empty<string>())
            .FirstOrDefault(File.Exists);
        if (native is null)
        {
            return ($"TorchSharp cannot run: no native libtorch beside the application ({file} not found in '{AppContext.BaseDirectory}'). Reference libtorch-cpu-linux-x64 2.10.0 (TorchSharp-cpu 0.107.0 on other systems, TorchSharp-cuda-linux or -windows 0.107.0 for GPUs)", false);
        }

        try
        {
            NativeLibrary.Free(NativeLibrary.Load(native));
            return null;
        }
        catch (DllNotFoundException e) when (e.Message.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal))
        {
            return ($"TorchSharp cannot load '{native}': it needs GLIBCXX_3.4.32 (libstdc++ of GCC 13), which this system's libstdc++ lacks (Debian 12, Ubuntu 22.04). The Microsoft.ML.TokenIdle package's build targets mark that need weak in the application's copy when they build on such a system: build the application with the package referenced (LibTorchSharpGlibcxxCompat not 'never'; 'always' when building on a newer system) or install a newer libstdc++", true);
        }
        catch (DllNotFoundException e)
        {
            return ($"TorchSharp cannot load '{native}': {ErrorMessages.OneLine(e.Message)}", true);
        }
    }
}
