namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>A file's length and last write time: what tells a changed model zip from the one loaded.</summary>
/// <param name="Length">Bytes (-1: no such file).</param>
/// <param name="LastWriteUtc">Last write time.</param>
internal readonly record struct FileSignature(long Length, DateTime LastWriteUtc)
{
    /// <summary>The signature of <paramref name="path"/> now.</summary>
    public static FileSignature Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileSignature(info.Length, info.LastWriteTimeUtc) : new FileSignature(-1, default);
    }
}
