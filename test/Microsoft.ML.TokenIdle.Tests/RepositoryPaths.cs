namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>Folders of the repository the tests run from.</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder holding TokenIdle.sln, found above the test binaries.</summary>
    public static string Root { get; } = Find();

    /// <summary>The shipped Fashion-MNIST sample images (class folders named "index-name").</summary>
    public static string FashionMnistSamples => Path.Combine(Root, "samples", "data", "fashion-mnist");

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TokenIdle.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above the test binaries");
    }
}
