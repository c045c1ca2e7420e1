using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.TokenIdle.Tests.Models.Hub;

/// <summary>
/// A small Hugging Face Hub on the loopback address, answering as the Hub does: <c>/{repo}/resolve/{revision}/{file}</c>
/// with <c>X-Repo-Commit</c>, an ETag (the git blob hash of small files; for LFS files — .safetensors — a 302 to
/// <c>/lfs/{sha256}</c> with <c>X-Linked-Etag</c> and <c>X-Linked-Size</c>), range requests on LFS bytes, 401/404
/// with <c>X-Error-Code</c>. Faults on demand: a connection dropped after some bytes, corrupted bytes, slow bytes.
/// Every request is logged.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Dictionary<string, string>> _branches = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Commit, string File), byte[]> _files = new();
    private readonly Dictionary<string, byte[]> _lfs = new(StringComparer.Ordinal);
    private readonly Task _serving;

    public FakeHub()
    {
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _serving = Task.Run(Serve);
    }

    public string Url { get; }

    /// <summary>Repositories whose files answer 401 GatedRepo.</summary>
    public HashSet<string> Gated { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, the next LFS download sends this many bytes and drops the connection.</summary>
    public long? DropNextAfter { get; set; }

    /// <summary>When set, LFS downloads send one flipped byte (the headers still announce the true hash).</summary>
    public bool Corrupt { get; set; }

    /// <summary>A pause per 64 KiB of LFS bytes (to make two downloads overlap).</summary>
    public TimeSpan Throttle { get; set; }

    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Puts <paramref name="files"/> as a new commit on <paramref name="branch"/> of <paramref name="repo"/>; returns the commit hash.</summary>
    public string Commit(string repo, IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        var commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"{repo}/{branch}/{_files.Count}/{Guid.NewGuid()}")));
        lock (_files)
        {
            if (!_branches.TryGetValue(repo, out var branches))
            {
                _branches[repo] = branches = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            branches[branch] = commit;
            foreach (var (name, bytes) in files)
            {
                _files[(commit, name)] = bytes;
                if (IsLfs(name))
                {
                    _lfs[Sha256(bytes)] = bytes;
                }
            }
        }

        return commit;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string GitBlobHash(byte[] bytes) => Convert.ToHexStringLower(SHA1.HashData(Encoding.ASCII.GetBytes($"blob {bytes.Length}\0").Concat(bytes).ToArray()));

    public int Count(string method, string pathPart) => Log.Count(l => l.StartsWith(method + " ", StringComparison.Ordinal) && l.Contains(pathPart, StringComparison.Ordinal));

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private static bool IsLfs(string file) => file.EndsWith(".safetensors", StringComparison.Ordinal);

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => Answer(context));
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Log.Enqueue($"{request.HttpMethod} {path}{(request.Headers["Range"] is { } range ? " " + range : "")}");
        try
        {
            if (path.StartsWith("/lfs/", StringComparison.Ordinal))
            {
                SendLfs(path["/lfs/".Length..], request, response);
                return;
            }

            // /{org}/{name}/resolve/{revision}/{file}
            var parts = path.Trim('/').Split('/', 5);
            if (parts.Length != 5 || parts[2] != "resolve")
            {
                Fail(response, 404, "EntryNotFound");
                return;
            }

            var (repo, revision, file) = ($"{parts[0]}/{parts[1]}", parts[3], parts[4]);
            if (Gated.Contains(repo))
            {
                Fail(response, 401, "GatedRepo");
                return;
            }

            byte[]? bytes;
            string commit;
            lock (_files)
            {
                if (!_branches.TryGetValue(repo, out var branches))
                {
                    Fail(response, 401, "RepoNotFound");
                    return;
                }

                commit = branches.TryGetValue(revision, out var head) ? head : revision;
                if (!branches.ContainsValue(commit) && !_files.Keys.Any(k => k.Commit == commit))
                {
                    Fail(response, 404, "RevisionNotFound");
                    return;
                }

                _files.TryGetValue((commit, file), out bytes);
            }

            if (bytes is null)
            {
                Fail(response, 404, "EntryNotFound");
                return;
            }

            response.Headers["X-Repo-Commit"] = commit;
            if (IsLfs(file))
            {
                var sha = Sha256(bytes);
                response.StatusCode = 302;
                response.Headers["Location"] = $"{Url}/lfs/{sha}";
                response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
                response.Headers["X-Linked-Size"] = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.Headers["ETag"] = $"\"{GitBlobHash(Encoding.ASCII.GetBytes(sha))}\"";
                response.Close();
                return;
            }

            response.StatusCode = 200;
            response.Headers["ETag"] = $"\"{GitBlobHash(bytes)}\"";
            response.ContentLength64 = bytes.Length;
            if (request.HttpMethod == "GET")
            {
                response.OutputStream.Write(bytes);
            }

            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
    }

    private void SendLfs(string sha, HttpListenerRequest request, HttpListenerResponse response)
    {
        byte[]? bytes;
        lock (_files)
        {
            _lfs.TryGetValue(sha, out bytes);
        }

        if (bytes is null)
        {
            Fail(response, 404, "EntryNotFound");
            return;
        }

        long start = 0;
        if (request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }

        response.ContentLength64 = bytes.Length - start;
        if (request.HttpMethod != "GET")
        {
            response.Close();
            return;
        }

        var body = bytes[(int)start..];
        if (Corrupt)
        {
            body = body.ToArray();
            body[body.Length / 2] ^= 0xFF;
        }

        var drop = DropNextAfter;
        DropNextAfter = null;
        for (var offset = 0; offset < body.Length; offset += 1 << 16)
        {
            var count = Math.Min(1 << 16, body.Length - offset);
            if (drop is { } limit && offset + count > limit)
            {
                response.OutputStream.Write(body, offset, (int)(limit - offset));
                response.OutputStream.Flush();
                response.Abort();
                return;
            }

            response.OutputStream.Write(body, offset, count);
            if (Throttle > TimeSpan.Zero)
            {
                Thread.Sleep(Throttle);
            }
        }

        response.Close();
    }

    private static void Fail(HttpListenerResponse response, int status, string code)
    {
        response.StatusCode = status;
        response.Headers["X-Error-Code"] = code;
        response.Close();
    }
}
