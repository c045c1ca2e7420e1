namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>
/// Reads whole files only when they are non-empty regular files under a size cap, so that a device
/// (<c>/dev/zero</c> never ends), a FIFO (opening blocks) or a huge file neither hangs nor exhausts memory.
/// </summary>
public static class BoundedFile
{
    /// <summary>The bytes of <paramref name="path"/>; <paramref name="what"/> names the file's role in errors ("image file").</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A folder, empty or not a regular file, longer than <paramref name="maxBytes"/>, or changed while read.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"{what} '{path}' is a folder, not a file");
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{what} '{path}' does not exist", path);
        }

        // A symbolic link reports its own length; what is opened is its final target.
        if (info.LinkTarget is not null)
        {
            info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? throw new InvalidDataException($"{what} '{path}' is a link to a folder or to nothing");
            if (!info.Exists)
            {
                throw new FileNotFoundException($"{what} '{path}' is a link to '{info.FullName}', which does not exist", path);
            }
        }

        // Devices, FIFOs, sockets and /proc entries report length 0; they are refused before being opened.
        if (info.Length == 0)
        {
            throw new InvalidDataException($"{what} '{path}' is empty or not a regular file");
        }

        var limit = Math.Min(maxBytes, Array.MaxLength);
        if (info.Length > limit)
        {
            throw new InvalidDataException($"{what} '{path}' is {info.Length:N0} bytes, over the limit of {limit:N0}");
        }

        var bytes = new byte[info.Length];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{what} '{path}' became shorter than its {info.Length:N0} bytes while it was read");
        }

        return bytes;
    }
}
