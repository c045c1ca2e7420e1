namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>Writes a file through a temporary sibling and a rename, so a failure never leaves a half-written file.</summary>
public static class AtomicFile
{
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
