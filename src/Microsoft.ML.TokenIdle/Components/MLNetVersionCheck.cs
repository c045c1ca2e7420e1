using System.Reflection;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Refuses an ML.NET of another major version than the one this library was built against, before anything
/// reaches ML.NET's internals: the persistence code compiles against them (eng/MLNetPublicizer.targets), and a
/// major may change them, which would otherwise surface as a <c>MissingMethodException</c> deep in a save or load.
/// ML.NET's assemblies all carry version 1.0.0.0, so the package versions are compared (informational versions).
/// </summary>
internal static class MLNetVersionCheck
{
    private static readonly Lazy<string?> Problem = new(() => Check(BuiltAgainst(), Loaded()));

    /// <summary>Throws when the application runs another ML.NET major.</summary>
    /// <exception cref="InvalidOperationException">One line naming both versions and the fix.</exception>
    public static void Ensure()
    {
        if (Problem.Value is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    /// <summary>Null when <paramref name="loaded"/> has the major of <paramref name="builtAgainst"/>, else the message.</summary>
    internal static string? Check(string builtAgainst, string loaded)
    {
        var (built, running) = (Major(builtAgainst), Major(loaded));
        return built == running
            ? null
            : $"Microsoft.ML.TokenIdle {Library()} is built for Microsoft.ML {built}.x ({builtAgainst}), but this application runs Microsoft.ML {loaded}: reference Microsoft.ML {built}.x, or a Microsoft.ML.TokenIdle built for Microsoft.ML {running}.x";
    }

    private static int Major(string version)
    {
        var text = version.Split('+', '-')[0];
        return Version.TryParse(text, out var parsed) ? parsed.Major : throw new InvalidOperationException($"cannot read the ML.NET version '{version}'");
    }

    private static string BuiltAgainst()
        => typeof(MLNetVersionCheck).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BuiltAgainst:Microsoft.ML").Value!;

    private static string Loaded()
        => (typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown").Split('+')[0];

    private static string Library()
        => (typeof(MLNetVersionCheck).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "").Split('+')[0];
}
