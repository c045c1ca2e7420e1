using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.Hub;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.Hub;

/// <summary>
/// Checkpoints by Hub id against <see cref="FakeHub"/> on the loopback address (nothing leaves the machine): the cache
/// in huggingface_hub's layout, hits, revisions, resumed, corrupted and refused downloads, offline mode, two processes.
/// </summary>
public sealed class HubCheckpointTests : IDisposable
{
    private const string Repo = "timm/deit_tiny_patch16_224.fake_in1k";
    private static readonly byte[] Config = Encoding.UTF8.GetBytes("""
        {"architecture": "deit_tiny_patch16_224", "num_classes": 1000, "num_features": 192, "global_pool": "token",
         "pretrained_cfg": {"tag": "fake_in1k", "input_size": [3, 224, 224], "fixed_input_size": true, "interpolation": "bicubic",
         "crop_pct": 0.875, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_classes": 1000, "first_conv": "patch_embed.proj", "classifier": "head"}}
        """);

    private readonly FakeHub _hub = new();
    private readonly DirectoryInfo _cache = Directory.CreateTempSubdirectory("hub-cache");
    private readonly byte[] _weights = File.ReadAllBytes(FixtureSet.Get("deit-tiny").WeightsPath!);
    private readonly string _commit;

    public HubCheckpointTests() => _commit = _hub.Commit(Repo, new Dictionary<string, byte[]> { ["config.json"] = Config, ["model.safetensors"] = _weights });

    public void Dispose()
    {
        _hub.Dispose();
        _cache.Delete(recursive: true);
    }

    private HubSettings Settings(bool offline = false, string? endpoint = null) => new() { Endpoint = endpoint ?? _hub.Url, CacheFolder = _cache.FullName, Offline = offline };

    private string RepoFolder => Path.Combine(_cache.FullName, "models--timm--deit_tiny_patch16_224.fake_in1k");

    [Fact]
    public void TheFirstFetchFillsTheCacheInTheHubLayoutAndLaterOnesDownloadNothing()
    {
        var checkpoint = HubCheckpoint.Fetch(Repo, settings: Settings());
        Assert.Equal((224, 16, 192, 12, 3, 1000, "bicubic"), (checkpoint.Config.ImageSize, checkpoint.Config.PatchSize, checkpoint.Config.EmbedDim, checkpoint.Config.Depth, checkpoint.Config.NumHeads, checkpoint.Config.NumClasses, checkpoint.Config.Interpolation));
        Assert.Equal(new[] { 0.485, 0.456, 0.406 }, checkpoint.Config.Mean);
        Assert.Equal(0.875, checkpoint.Config.CropPercent);

        // huggingface_hub's layout: blobs named by ETag (SHA-256 for LFS files, git blob hash otherwise), snapshot
        // entries as relative links to them, refs/main holding the commit.
        var sha = FakeHub.Sha256(_weights);
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", _commit, "model.safetensors"), checkpoint.WeightsPath!);
        Assert.Equal(Path.Combine("..", "..", "blobs", sha), new FileInfo(checkpoint.WeightsPath!).LinkTarget);
        Assert.Equal(Path.Combine("..", "..", "blobs", FakeHub.GitBlobHash(Config)), new FileInfo(checkpoint.ConfigPath).LinkTarget);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(RepoFolder, "blobs", sha)));
        Assert.Equal(_commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete"));
        Assert.True(File.Exists(Path.Combine(_cache.FullName, ".locks", "models--timm--deit_tiny_patch16_224.fake_in1k", sha + ".lock")));
        Assert.Equal(1, _hub.Count("GET", "/lfs/"));

        // A branch asks the Hub which commit it is at (HEAD only); a commit hash asks nothing.
        var requests = _hub.Log.Count;
        Assert.Equal(checkpoint.WeightsPath!, HubCheckpoint.Fetch(Repo, settings: Settings()).WeightsPath!);
        Assert.All(_hub.Log.Skip(requests), l => Assert.StartsWith("HEAD ", l));
        requests = _hub.Log.Count;
        Assert.Equal(checkpoint.WeightsPath!, HubCheckpoint.Fetch(Repo, _commit, Settings()).WeightsPath!);
        Assert.Equal(requests, _hub.Log.Count);
    }

    [Fact]
    public void ANewRevisionIsFetchedBesideTheOldOne()
    {
        var first = HubCheckpoint.Fetch(Repo, settings: Settings());
        var changed = _weights.ToArray();
        changed[^1] ^= 0x01;
        var commit = _hub.Commit(Repo, new Dictionary<string, byte[]> { ["config.json"] = Config, ["model.safetensors"] = changed });
        var second = HubCheckpoint.Fetch(Repo, settings: Settings());
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", commit, "model.safetensors"), second.WeightsPath!);
        Assert.Equal(changed, File.ReadAllBytes(second.WeightsPath!));
        Assert.Equal(_weights, File.ReadAllBytes(first.WeightsPath!));
        Assert.Equal(commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        // The unchanged config.json is one blob shared by both snapshots.
        Assert.Single(Directory.GetFiles(Path.Combine(RepoFolder, "blobs")), f => f.EndsWith(FakeHub.GitBlobHash(Config), StringComparison.Ordinal));
        Assert.Equal(first.ConfigPath.Replace(_commit, commit, StringComparison.Ordinal), second.ConfigPath);
    }

    [Fact]
    public void ADroppedConnectionIsResumedFromTheBytesAlreadyReceived()
    {
        _hub.DropNextAfter = 5_000_000;
        var checkpoint = HubCheckpoint.Fetch(Repo, settings: Settings());
        Assert.Equal(_weights, File.ReadAllBytes(checkpoint.WeightsPath!));
        Assert.Equal(2, _hub.Count("GET", "/lfs/"));
        Assert.Single(_hub.Log, l => l.StartsWith("GET /lfs/", StringComparison.Ordinal) && l.EndsWith("bytes=5000000-", StringComparison.Ordinal));
    }

    [Fact]
    public void ACorruptedDownloadIsRefusedAndLeavesNothingBehind()
    {
        _hub.Corrupt = true;
        var e = Assert.Throws<HubException>(() => HubCheckpoint.Fetch(Repo, settings: Settings()));
        Assert.Contains("'model.safetensors' of timm/deit_tiny_patch16_224.fake_in1k at revision main: the downloaded file", e.Message);
        Assert.Contains($"does not match the Hub's ({_weights.Length} bytes, {FakeHub.Sha256(_weights)}); it was deleted", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete"));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "blobs", FakeHub.Sha256(_weights))));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "snapshots", _commit, "model.safetensors")));

        _hub.Corrupt = false;
        Assert.Equal(_weights, File.ReadAllBytes(HubCheckpoint.Fetch(Repo, settings: Settings()).WeightsPath!));
    }

    [Theory]
    [InlineData("timm/no_such_model", null, "'config.json' of timm/no_such_model at revision main: the Hub refused access (401): the repository is private or does not exist; set HF_TOKEN")]
    [InlineData("gated", null, "the repository is gated (401): accept its conditions on the Hub, then set HF_TOKEN")]
    [InlineData(Repo, "v9", "'config.json' of timm/deit_tiny_patch16_224.fake_in1k at revision v9: no such revision (404)")]
    public void RefusalsAreOneLineNamingTheRepositoryAndFile(string repo, string? revision, string message)
    {
        if (repo == "gated")
        {
            repo = "timm/gated_model";
            _hub.Commit(repo, new Dictionary<string, byte[]> { ["config.json"] = Config });
            _hub.Gated.Add(repo);
        }

        var e = Assert.Throws<HubException>(() => HubCheckpoint.Fetch(repo, revision, Settings()));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AMissingFileIsA404NamingIt()
    {
        _hub.Commit("timm/config_only", new Dictionary<string, byte[]> { ["config.json"] = Config });
        var e = Assert.Throws<HubException>(() => HubCheckpoint.Fetch("timm/config_only", settings: Settings()));
        Assert.Equal("'model.safetensors' of timm/config_only at revision main: no such file (404)", e.Message);
    }

    [Fact]
    public void OfflineUsesTheCacheOnlyAndSaysWhatIsMissing()
    {
        var e = Assert.Throws<HubException>(() => HubCheckpoint.Fetch(Repo, settings: Settings(offline: true)));
        Assert.StartsWith("'config.json' of timm/deit_tiny_patch16_224.fake_in1k at revision main is not in the cache", e.Message);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Empty(_hub.Log);

        var online = HubCheckpoint.Fetch(Repo, settings: Settings());
        var requests = _hub.Log.Count;
        Assert.Equal(online.WeightsPath!, HubCheckpoint.Fetch(Repo, settings: Settings(offline: true)).WeightsPath!);
        Assert.Equal(requests, _hub.Log.Count);
    }

    [Fact]
    public void WithoutNetworkTheCacheServesAndItsAbsenceIsOneLine()
    {
        var closed = "http://127.0.0.1:9"; // the discard port: nothing listens on the loopback address here
        var e = Assert.Throws<HubException>(() => HubCheckpoint.Fetch(Repo, settings: Settings(endpoint: closed)));
        Assert.StartsWith("cannot reach http://127.0.0.1:9 (", e.Message);
        Assert.Contains("is not in the cache", e.Message);
        Assert.EndsWith($"fetch it once where the Hub is reachable (tokenidle download --model {Repo}) into this cache (HF_HUB_CACHE = '{_cache.FullName}') and run here with HF_HUB_OFFLINE=1, or use local config and weights files", e.Message);

        var online = HubCheckpoint.Fetch(Repo, settings: Settings());
        Assert.Equal(online.WeightsPath!, HubCheckpoint.Fetch(Repo, settings: Settings(endpoint: closed)).WeightsPath!);
    }

    [Fact]
    public void ACacheLaidOutAsHuggingfaceHubWritesItIsRead()
    {
        // As huggingface_hub leaves it: blobs by ETag, snapshot links (config) or copies (weights, as on systems
        // without links), refs/main; read with the network off.
        var commit = new string('a', 40);
        var blobs = Directory.CreateDirectory(Path.Combine(RepoFolder, "blobs")).FullName;
        var snapshot = Directory.CreateDirectory(Path.Combine(RepoFolder, "snapshots", commit)).FullName;
        File.WriteAllBytes(Path.Combine(blobs, FakeHub.GitBlobHash(Config)), Config);
        File.CreateSymbolicLink(Path.Combine(snapshot, "config.json"), Path.Combine("..", "..", "blobs", FakeHub.GitBlobHash(Config)));
        File.WriteAllBytes(Path.Combine(snapshot, "model.safetensors"), _weights);
        Directory.CreateDirectory(Path.Combine(RepoFolder, "refs"));
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), commit);

        var checkpoint = HubCheckpoint.Fetch(Repo, settings: Settings(offline: true));
        Assert.Equal(Path.Combine(snapshot, "model.safetensors"), checkpoint.WeightsPath!);
        Assert.Equal(192, checkpoint.Config.EmbedDim);
        Assert.Equal(checkpoint.WeightsPath!, HubCheckpoint.Fetch(Repo, commit, Settings(offline: true)).WeightsPath!);
    }

    [Fact]
    public void AHubIdGivesTheLogitsOfTheSameFilesLoadedByPath()
    {
        var set = FixtureSet.Get("deit-tiny");
        var checkpoint = HubCheckpoint.Fetch(Repo, settings: Settings());
        using var fromHub = VisionTransformer.Load(checkpoint.Config, checkpoint.WeightsPath!);
        using var fromFiles = set.LoadModel();
        fromHub.eval();
        using var input = set.Input;
        using var noGrad = no_grad();
        using var expected = fromFiles.forward(input);
        using var actual = fromHub.forward(input);

        // The same weights through the same kernels in one process: bit for bit.
        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = string.Empty;

        public string Label { get; set; } = string.Empty;
    }

    /// <summary>
    /// A trainer that names no backbone finetunes the papers' DeiT-S from the Hub cache (here the loopback hub serves
    /// the deit-tiny fixture under its id), checks every option before fetching anything (the architecture's small config
    /// before the weights), and offline without a cache fails with one line that names the model and the ways out.
    /// </summary>
    [Fact]
    public void ATrainerThatNamesNoBackboneFetchesDeitSmallAfterCheckingEverything()
    {
        const string Default = "timm/deit_small_patch16_224.fb_in1k";
        Assert.Equal(Default, Backbone.DefaultModelId);
        _hub.Commit(Default, new Dictionary<string, byte[]> { ["config.json"] = Config, ["model.safetensors"] = _weights });
        var saved = (Environment.GetEnvironmentVariable("HF_ENDPOINT"), Environment.GetEnvironmentVariable("HF_HUB_CACHE"), Environment.GetEnvironmentVariable("HF_HUB_OFFLINE"));
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _hub.Url);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", _cache.FullName);
        try
        {
            var folder = Path.Combine(RepositoryPaths.FashionMnistSamples, "train");
            var rows = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).Take(2)
                .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).Take(4).Select(f => new ImageRow { ImagePath = f, Label = Path.GetFileName(d) })).ToList();
            var ml = new MLContext(seed: 1);
            var messages = new List<string>();
            ml.Log += (_, e) => { lock (messages) { messages.Add(e.Message); } };
            var data = ml.Data.LoadFromEnumerable(rows);
            ITransformer Fit(TokenIdleImageClassificationTrainer.Options options) => ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
                .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(options))
                .Fit(data);

            // A bad option is refused before any request; a schedule that does not fit the architecture, after its config only.
            var batch = Assert.Throws<ArgumentException>(() => Fit(new TokenIdleImageClassificationTrainer.Options { BatchSize = 0 }));
            Assert.Equal("BatchSize must be at least 1, got 0", batch.Message);
            Assert.Empty(_hub.Log);
            var schedule = Assert.ThrowsAny<ArgumentException>(() => Fit(new TokenIdleImageClassificationTrainer.Options { TokenReduction = { Schedule = new[] { 1.0, 0.5 } } }));
            Assert.Contains("2 ratios", schedule.Message);
            Assert.Equal(0, _hub.Count("HEAD", "model.safetensors"));

            var model = (IEnumerable<ITransformer>)Fit(new TokenIdleImageClassificationTrainer.Options { MaxSteps = 1, BatchSize = 4 });
            Assert.Equal(192, model.OfType<VisionTransformerClassifier>().Single().Model.Config.EmbedDim);
            Assert.Contains(messages, m => m.Contains($"backbone: {Default} at main", StringComparison.Ordinal));
            Assert.Contains(messages, m => m.Contains($"{Default}: downloading model.safetensors", StringComparison.Ordinal));

            // Offline with an empty cache: one line naming the model, and what to do.
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", Directory.CreateTempSubdirectory("empty-hub").FullName);
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");
            var offline = Assert.Throws<HubException>(() => Fit(new TokenIdleImageClassificationTrainer.Options { MaxSteps = 1, BatchSize = 4 }));
            Assert.DoesNotContain('\n', offline.Message);
            Assert.StartsWith($"the backbone {Default} cannot be had: 'config.json' of {Default} at revision main is not in the cache", offline.Message);
            Assert.Contains($"tokenidle download --model {Default}", offline.Message);
            Assert.EndsWith("Or choose another backbone (local config and weights files, or another Hub id)", offline.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_ENDPOINT", saved.Item1);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", saved.Item2);
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", saved.Item3);
        }
    }

    [Fact]
    public void ATrainerFinetunesAHubCheckpointNamedInItsOptions()
    {
        var saved = (Environment.GetEnvironmentVariable("HF_ENDPOINT"), Environment.GetEnvironmentVariable("HF_HUB_CACHE"));
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _hub.Url);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", _cache.FullName);
        try
        {
            var folder = Path.Combine(RepositoryPaths.FashionMnistSamples, "train");
            var rows = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).Take(2)
                .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).Take(4).Select(f => new ImageRow { ImagePath = f, Label = Path.GetFileName(d) })).ToList();
            var ml = new MLContext(seed: 1);
            var messages = new List<string>();
            ml.Log += (_, e) => { lock (messages) { messages.Add(e.Message); } };
            var data = ml.Data.LoadFromEnumerable(rows);
            var options = new TokenIdleImageClassificationTrainer.Options { Backbone = Backbone.HubModel(Repo), MaxSteps = 1, BatchSize = 4, TokenReduction = { KeepRatio = 0.7 } };
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
                .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(options))
                .Fit(data);
            var classifier = model.LastTransformer;
            Assert.Equal((224, 192, 2), (classifier.Model.Config.ImageSize, classifier.Model.Config.EmbedDim, classifier.Model.Config.NumClasses));
            Assert.Equal("bicubic", classifier.Model.Config.Interpolation);
            Assert.Contains(messages, m => m.Contains($"backbone: {Repo} at main", StringComparison.Ordinal));
            Assert.Contains(messages, m => m.Contains("has a head for 1000 classes; training a new head for 2", StringComparison.Ordinal));

            // The older spelling still names a backbone, and still refuses two at once.
#pragma warning disable CS0618
            var both = new TokenIdleImageClassificationTrainer.Options { PretrainedModel = Repo, Architecture = "deit-tiny" };
#pragma warning restore CS0618
            var e = Assert.ThrowsAny<Exception>(() => ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
                .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(both)).Fit(data));
            Assert.Contains($"PretrainedModel '{Repo}' brings its architecture and weights", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_ENDPOINT", saved.Item1);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", saved.Item2);
        }
    }

    [Fact]
    public void TheCliScoresAHubIdAsItScoresTheSameFilesAndRefusesMixedSources()
    {
        var set = FixtureSet.Get("deit-tiny");
        var environment = new Dictionary<string, string> { ["HF_ENDPOINT"] = _hub.Url, ["HF_HUB_CACHE"] = _cache.FullName };
        (int Code, string Out, string Err) Run(params string[] args) => Cli.CliRunner.Run(environment, args);

        var byId = Run("infer", "--model", Repo, "--input", set.ExpectedPath, "--method", "idle", "--keep-rate", "0.7");
        Assert.True(byId.Code == 0, byId.Err);
        Assert.Contains($"tokenidle: {Repo}: downloading model.safetensors", byId.Err);
        var byFiles = Run("infer", "--config", set.ConfigPath, "--weights", set.WeightsPath!, "--input", set.ExpectedPath, "--method", "idle", "--keep-rate", "0.7");
        Assert.Equal(byFiles.Out, byId.Out);

        var mixed = Run("infer", "--model", Repo, "--weights", set.WeightsPath!, "--input", set.ExpectedPath);
        Assert.Equal(1, mixed.Code);
        Assert.Contains($"--weights does not apply to --model {Repo}: it brings its weights", mixed.Err);
        var revision = Run("macs", "--model", "deit-small", "--revision", "v1");
        Assert.Equal(1, revision.Code);
        Assert.Contains("--revision v1 applies to a Hub model (--model ORG/NAME)", revision.Err);
    }

    [Fact]
    public void TwoProcessesAtOnceDownloadTheFileOnce()
    {
        _hub.Throttle = TimeSpan.FromMilliseconds(5); // about two seconds for the weights: the processes overlap
        var environment = new Dictionary<string, string> { ["HF_ENDPOINT"] = _hub.Url, ["HF_HUB_CACHE"] = _cache.FullName };
        var processes = Enumerable.Range(0, 2).Select(_ => Cli.CliRunner.Start(environment, "download", "--model", Repo)).ToList();
        var outputs = processes.Select(p =>
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stderr);
            return System.Text.Json.JsonDocument.Parse(stdout.Result).RootElement.GetProperty("weights").GetString();
        }).ToList();
        processes.ForEach(p => p.Dispose());
        Assert.Equal(outputs[0], outputs[1]);
        Assert.Equal(1, _hub.Count("GET", "/lfs/"));
        Assert.Equal(_weights, File.ReadAllBytes(outputs[0]!));
    }
}
