using Microsoft.ML.TokenIdle.Tensors.Cpu;

namespace Microsoft.ML.TokenIdle.Cli.Commands;

/// <summary>Runs a verb's body and turns any failure into one line on standard error and exit code 1.</summary>
internal static class CommandRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"tokenidle: error: {e.Message}");
            return 1;
        }
    }

    public static void SetThreads(int? threads)
    {
        if (threads is { } t)
        {
            if (t < 1)
            {
                throw new ArgumentException($"--threads must be at least 1, got {t}");
            }

            CpuBackend.Threads = t;
        }
    }
}
