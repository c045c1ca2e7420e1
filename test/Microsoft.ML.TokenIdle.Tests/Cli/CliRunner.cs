using System.Diagnostics;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary>Runs the built <c>tokenidle</c> executable in a child process.</summary>
internal static class CliRunner
{
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    public static (int Code, string Out, string Err) Run(params string[] args) => Run(NoEnvironment, args);

    /// <summary>Runs the executable to its end with extra environment variables.</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    /// <summary>Kills the process as soon as it writes a standard-error line containing <paramref name="marker"/> (as a crash would); returns what it wrote until then.</summary>
    public static string RunUntil(string marker, params string[] args)
    {
        using var process = Start(NoEnvironment, args);
        _ = process.StandardOutput.ReadToEndAsync();
        var seen = new System.Text.StringBuilder();
        while (process.StandardError.ReadLine() is { } line)
        {
            seen.AppendLine(line);
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return seen.ToString();
            }
        }

        process.WaitForExit();
        throw new InvalidOperationException($"'{marker}' never appeared (exit code {process.ExitCode}):\n{seen}");
    }

    /// <summary>Starts the executable with extra environment variables; the caller reads its output and waits.</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tokenidle.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }
}
