using System.Text.RegularExpressions;

namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>
/// One repository's part of the Hub cache, in the layout huggingface_hub reads and writes (the Hub's "Local cache"
/// page): <c>blobs/ETAG</c> (a file's bytes, named by its ETag: the SHA-256 of LFS files, the git blob hash of
/// others), <c>snapshots/COMMIT/FILE</c> (a relative symbolic link to <c>../../blobs/ETAG</c>, or a copy where links
/// cannot be made), <c>refs/REVISION</c> (the commit a branch or tag pointed at), partial downloads as
/// <c>blobs/ETAG.incomplete</c> and locks in <c>.locks/models--ORG--NAME/ETAG.lock</c> beside the repositories.
/// </summary>
internal sealed partial class HubCache
{
    public HubCache(string cacheFolder, HubRepository repository)
    {
        Root = Path.Combine(Path.GetFullPath(cacheFolder), repository.FolderName);
        Locks = Path.Combine(Path.GetFullPath(cacheFolder), ".locks", repository.FolderName);
    }

    /// <summary>The repository's folder.</summary>
    public string Root { get; }

    private string Locks { get; }

    /// <summary>Whether <paramref name="revision"/> is a full commit hash (40 hex digits).</summary>
    public static bool IsCommit(string revision) => CommitPattern().IsMatch(revision);

    public string Blob(string etag) => Path.Combine(Root, "blobs", etag);

    public string Incomplete(string etag) => Blob(etag) + ".incomplete";

    public string Lock(string etag) => Path.Combine(Locks, etag + ".lock");

    public string Snapshot(string commit, string file) => Path.Combine(Root, "snapshots", commit, file);

    /// <summary>The commit <paramref name="revision"/> names here: itself if a commit hash, else what refs/REVISION holds (null: unknown).</summary>
    public string? Commit(string revision)
    {
        if (IsCommit(revision))
        {
            return revision;
        }

        var reference = Path.Combine(Root, "refs", revision);
        return File.Exists(reference) && File.ReadAllText(reference).Trim() is var commit && IsCommit(commit) ? commit : null;
    }

    /// <summary>The cached file of <paramref name="revision"/>, or null when the cache does not have it (a dangling link counts as absent).</summary>
    public string? Cached(string revision, string file)
        => Commit(revision) is { } commit && Snapshot(commit, file) is var path && File.Exists(path) ? path : null;

    /// <summary>Points snapshots/COMMIT/FILE at the blob and, for a branch or tag, refs/REVISION at the commit.</summary>
    public string Link(string revision, string commit, string file, string etag)
    {
        var snapshot = Snapshot(commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(snapshot)!);
        if (!File.Exists(snapshot))
        {
            if (new FileInfo(snapshot).LinkTarget is not null)
            {
                File.Delete(snapshot); // a dangling link
            }

            var relative = Path.GetRelativePath(Path.GetDirectoryName(snapshot)!, Blob(etag));
            try
            {
                File.CreateSymbolicLink(snapshot, relative);
            }
            catch (IOException) when (File.Exists(snapshot))
            {
                // Another process linked it first.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                // As huggingface_hub does where links cannot be made: the snapshot holds a copy.
                File.Copy(Blob(etag), snapshot, overwrite: true);
            }
        }

        if (revision != commit)
        {
            var reference = Path.Combine(Root, "refs", revision);
            Directory.CreateDirectory(Path.GetDirectoryName(reference)!);
            if (!File.Exists(reference) || File.ReadAllText(reference).Trim() != commit)
            {
                var temporary = reference + $".{Environment.ProcessId}.tmp";
                File.WriteAllText(temporary, commit);
                File.Move(temporary, reference, overwrite: true);
            }
        }

        return snapshot;
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();
}
