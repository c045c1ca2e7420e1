using System.Runtime.InteropServices;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Lowers the calling thread's scheduling priority on Linux (nice 10), for the decode workers: when they compete with
/// libtorch's compute threads for the cores, a preempted compute thread stalls a whole parallel operation, so the
/// compute threads go first; when training waits for data, its threads sleep and the workers get every core anyway.
/// Elsewhere, or when the call fails, nothing changes.
/// </summary>
internal static partial class WorkerPriority
{
    private const int PriorityProcess = 0;
    private const int Nice = 10;

    public static void Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            // On Linux a "process" priority given a thread id applies to that thread alone.
            _ = SetPriority(PriorityProcess, GetThreadId(), Nice);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
