using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.TokenIdle.Engine;

namespace Microsoft.ML.TokenIdle.Models.Hub;

/// <summary>
/// Fetches files of Hub repositories into the Hub cache, as huggingface_hub does: a HEAD request on
/// <c>{endpoint}/{repo}/resolve/{revision}/{file}</c> gives the commit (<c>X-Repo-Commit</c>), the file's ETag
/// (<c>X-Linked-Etag</c> for LFS files: their SHA-256) and size, and, for LFS files, a redirect to where the bytes
/// are; the bytes are streamed to <c>blobs/ETAG.incomplete</c>, resumed with a range request after an interruption,
/// checked against the ETag (SHA-256, or the git blob hash of small files) and renamed into place, under a lock file
/// so that two processes never fetch the same file twice. A revision that is a commit hash and is cached needs no
/// request at all; a branch costs one HEAD request, which finds a new revision when there is one.
/// </summary>
internal sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private const int MaxAttempts = 4;
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(30);
    private readonly HttpClient _http;
    private readonly HubSettings _settings;

    public HubClient(HubSettings settings, HttpMessageHandler? handler = null)
    {
        _settings = settings;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None }, disposeHandler: true)
        {
            Timeout = TimeSpan.FromMinutes(10),
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Microsoft.ML.TokenIdle", "1.0"));
    }

    /// <summary>The local path of <paramref name="file"/> of <paramref name="repository"/> at <paramref name="revision"/>, fetched if needed.</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="revision">A branch, tag or commit hash.</param>
    /// <param name="file">The file's path in the repository.</param>
    /// <param name="progress">Called with bytes fetched so far and the file's size as a download starts and each time it passes another tenth of the file.</param>
    /// <exception cref="HubException">Offline without it in the cache, the Hub refuses or lacks it, no network and no cache, or the bytes do not match.</exception>
    public string Fetch(HubRepository repository, string revision, string file, Action<long, long>? progress = null)
    {
        var cache = new HubCache(_settings.CacheFolder, repository);
        var where = $"'{file}' of {repository.Id} at revision {revision}";
        if (_settings.Offline)
        {
            return cache.Cached(revision, file) ?? throw new HubException($"{where} is not in the cache '{cache.Root}' and HF_HUB_OFFLINE forbids fetching it: {FetchOnce(repository)}, or unset HF_HUB_OFFLINE where the Hub is reachable");
        }

        if (HubCache.IsCommit(revision) && cache.Cached(revision, file) is { } pinned)
        {
            return pinned;
        }

        Metadata metadata;
        try
        {
            metadata = Head(repository, revision, file, where);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return cache.Cached(revision, file)
                ?? throw new HubException($"cannot reach {_settings.Endpoint} ({ErrorMessages.OneLine(e.Message)}) and {where} is not in the cache '{cache.Root}': {FetchOnce(repository)} and run here with HF_HUB_OFFLINE=1, or use local config and weights files", e);
        }

        if (!File.Exists(cache.Blob(metadata.Etag)))
        {
            Download(cache, metadata, where, progress);
        }

        return cache.Link(revision, metadata.Commit, file, metadata.Etag);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>What a user without the file can do: fill this cache where the Hub is reachable.</summary>
    private string FetchOnce(HubRepository repository)
        => $"fetch it once where the Hub is reachable (tokenidle download --model {repository.Id}) into this cache (HF_HUB_CACHE = '{_settings.CacheFolder}')";

    private Metadata Head(HubRepository repository, string revision, string file, string where)
    {
        var url = new Uri($"{_settings.Endpoint}/{repository.Id}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");
        for (var redirects = 0; redirects <= MaxRedirects; redirects++)
        {
            using var request = Request(HttpMethod.Head, url);
            using var response = _http.Send(request);
            var location = response.Headers.Location;
            if ((int)response.StatusCode is >= 300 and < 400 && location is not null && !location.IsAbsoluteUri)
            {
                url = new Uri(url, location); // a renamed repository: the Hub answers with a relative redirect
                continue;
            }

            // An LFS file answers with a redirect to its storage: the metadata is on this response.
            if (!((int)response.StatusCode is >= 300 and < 400 && location is { IsAbsoluteUri: true }))
            {
                Check(response, where);
            }

            var commit = Header(response, "X-Repo-Commit") ?? throw new HubException($"{where}: {url.Host} sent no X-Repo-Commit header: is {_settings.Endpoint} a Hugging Face Hub?");
            var etag = NormalizeEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag"))
                ?? throw new HubException($"{where}: {url.Host} sent no ETag header");
            var size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength
                ?? throw new HubException($"{where}: {url.Host} sent no size");
            if (!HubCache.IsCommit(commit) || etag.IndexOfAny(new[] { '/', '\\', '.' }) >= 0)
            {
                throw new HubException($"{where}: {url.Host} sent an invalid commit '{commit}' or ETag '{etag}'");
            }

            return new Metadata(commit, etag, size, location is { IsAbsoluteUri: true } ? location : url);
        }

        throw new HubException($"{where}: more than {MaxRedirects} redirects");
    }

    private void Download(HubCache cache, Metadata metadata, string where, Action<long, long>? progress)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(cache.Blob(metadata.Etag))!);
        Directory.CreateDirectory(Path.GetDirectoryName(cache.Lock(metadata.Etag))!);
        using var held = AcquireLock(cache.Lock(metadata.Etag), where);
        if (File.Exists(cache.Blob(metadata.Etag)))
        {
            return; // another process fetched it while this one waited
        }

        var incomplete = cache.Incomplete(metadata.Etag);
        // One report per tenth of the file (across resumed attempts): enough for a bar or a log line.
        var reportedTenth = -1L;
        Action<long, long>? tenths = progress is null ? null : (done, total) =>
        {
            var tenth = total > 0 ? done * 10 / total : 10;
            if (tenth > reportedTenth)
            {
                reportedTenth = tenth;
                progress(done, total);
            }
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Receive(metadata, incomplete, where, tenths);
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or TaskCanceledException && attempt < MaxAttempts)
            {
                // A dropped connection: the next request resumes from the bytes already on disk.
            }
            catch (Exception e) when (e is IOException or HttpRequestException or TaskCanceledException)
            {
                throw new HubException($"{where}: the download failed {MaxAttempts} times ({ErrorMessages.OneLine(e.Message)}); the {new FileInfo(incomplete).Length} bytes received stay in '{incomplete}' and the next try resumes from there", e);
            }
        }

        var length = new FileInfo(incomplete).Length;
        var actual = Hash(incomplete, metadata.Etag, length);
        if (length != metadata.Size || !actual.Equals(metadata.Etag, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(incomplete);
            throw new HubException($"{where}: the downloaded file ({length} bytes, hash {actual}) does not match the Hub's ({metadata.Size} bytes, {metadata.Etag}); it was deleted: try again");
        }

        File.Move(incomplete, cache.Blob(metadata.Etag));
    }

    private void Receive(Metadata metadata, string incomplete, string where, Action<long, long>? progress)
    {
        var have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
        if (have > metadata.Size)
        {
            File.Delete(incomplete);
            have = 0;
        }

        if (have == metadata.Size)
        {
            return;
        }

        var url = metadata.Download;
        for (var redirects = 0; ; redirects++)
        {
            using var request = Request(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
            }

            using var response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location && redirects < MaxRedirects)
            {
                url = location.IsAbsoluteUri ? location : new Uri(url, location);
                continue;
            }

            Check(response, where);
            // 206 continues the partial file; 200 means the server sent the whole file again.
            var append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
            using var output = new FileStream(incomplete, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None);
            have = append ? have : 0;
            using var body = response.Content.ReadAsStream();
            var buffer = new byte[1 << 20];
            int read;
            while ((read = body.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, read);
                have += read;
                progress?.Invoke(have, metadata.Size);
                if (have > metadata.Size)
                {
                    throw new HubException($"{where}: the server sent more than the {metadata.Size} bytes it announced");
                }
            }

            if (have < metadata.Size)
            {
                throw new IOException($"the connection closed after {have} of {metadata.Size} bytes");
            }

            return;
        }
    }

    private HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        // The token goes to the Hub only, never to the storage a redirect points at.
        if (_settings.Token is { } token && url.Host == new Uri(_settings.Endpoint).Host)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    private void Check(HttpResponseMessage response, string where)
    {
        var status = (int)response.StatusCode;
        if (status is >= 200 and < 300)
        {
            return;
        }

        var code = Header(response, "X-Error-Code");
        throw new HubException(status switch
        {
            401 or 403 when code == "GatedRepo" => $"{where}: the repository is gated ({status}): accept its conditions on the Hub, then set HF_TOKEN to a token of that account",
            401 or 403 => $"{where}: the Hub refused access ({status}): the repository is private or does not exist; {(_settings.Token is null ? "set HF_TOKEN to a token that can read it" : "the token in HF_TOKEN cannot read it")}",
            404 when code == "RevisionNotFound" => $"{where}: no such revision (404)",
            404 when code == "RepoNotFound" => $"{where}: no such repository (404)",
            404 => $"{where}: no such file (404)",
            _ => $"{where}: the Hub answered {status} {response.ReasonPhrase}",
        });
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    /// <summary>An ETag as the cache names blobs: without the weak prefix and quotes.</summary>
    private static string? NormalizeEtag(string? etag) => etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    /// <summary>SHA-256 for a 64-digit ETag (LFS files), else the git blob hash (SHA-1 of "blob SIZE\0" and the bytes).</summary>
    private static string Hash(string path, string etag, long length)
    {
        using var stream = File.OpenRead(path);
        if (etag.Length == 64)
        {
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {length}\0"));
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            sha1.AppendData(buffer, 0, read);
        }

        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>An exclusive lock on <paramref name="path"/> (flock on Linux, as Python's filelock takes it), waited for.</summary>
    private static FileStream AcquireLock(string path, string where)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
            catch (IOException e)
            {
                throw new HubException($"{where}: another process has held the download lock '{path}' for {LockTimeout.TotalMinutes} minutes", e);
            }
        }
    }

    private sealed record Metadata(string Commit, string Etag, long Size, Uri Download);
}
