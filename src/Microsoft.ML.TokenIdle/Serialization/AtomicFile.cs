using System.Text.RegularExpressions;

namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>Writes a file through a temporary sibling and a rename, so a failure never leaves a half-written file.</summary>
public static partial class AtomicFile
{
    /// <summary>
    /// Deletes the temporary files that writes interrupted by a killed process left in <paramref name="folder"/>
    /// (only names this class makes: <c>.NAME.GUID.tmp</c>); returns their names.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return Array.Empty<string>();
        }

        var leftovers = Directory.EnumerateFiles(folder, ".*.tmp").Where(f => TempName().IsMatch(Path.GetFileName(f))).ToList();
        leftovers.ForEach(File.Delete);
        return leftovers.Select(Path.GetFileName).ToList()!;
    }

    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempName();

    /// <summary>Runs <paramref name="write"/> on a temporary file and moves it over <paramref name="path"/> once complete.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"cannot write '{path}': folder '{dir}' does not exist");
        }

        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
