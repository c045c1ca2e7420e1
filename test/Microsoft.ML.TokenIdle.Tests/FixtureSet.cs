using System.Text.Json;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>One directory of ../shared/fixtures: config, weights, expected tensors and cases.</summary>
public sealed class FixtureSet
{
    private static readonly Dictionary<string, FixtureSet> Cache = new();

    private FixtureSet(string name)
    {
        Directory = Path.Combine(Root, name);
        Config = VisionTransformerConfig.Load(Path.Combine(Directory, "config.json"));
        Expected = SafetensorsFile.Read(Path.Combine(Directory, "expected.safetensors"));
        Cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "cases.json"))).RootElement;
    }

    /// <summary>The fixtures folder: TOKENIDLE_FIXTURES, else shared/fixtures beside the repository.</summary>
    public static string Root { get; } = FindRoot();

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "config.json");

    public string WeightsPath => Path.Combine(Directory, "weights.safetensors");

    public string ExpectedPath => Path.Combine(Directory, "expected.safetensors");

    public VisionTransformerConfig Config { get; }

    public IReadOnlyDictionary<string, SafetensorsEntry> Expected { get; }

    public JsonElement Cases { get; }

    public static FixtureSet Get(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var set))
            {
                set = new FixtureSet(name);
                Cache[name] = set;
            }

            return set;
        }
    }

    public VisionTransformer LoadModel()
    {
        var model = new VisionTransformer(Config);
        model.LoadWeights(WeightsPath);
        return model;
    }

    public Tensor Input => Expected["input"].ToTensor();

    public int[] Labels => Expected["labels"].ToInt64().Select(l => (int)l).ToArray();

    /// <summary>The float checks of a case: tensor name and absolute tolerance.</summary>
    public IEnumerable<(string Tensor, float Atol)> FloatChecks(string caseName)
    {
        foreach (var c in Cases.EnumerateArray())
        {
            if (c.GetProperty("name").GetString() != caseName)
            {
                continue;
            }

            foreach (var check in c.GetProperty("checks").EnumerateArray())
            {
                if (check.GetProperty("dtype").GetString() == "F32")
                {
                    yield return (check.GetProperty("tensor").GetString()!, (float)check.GetProperty("atol").GetDouble());
                }
            }
        }
    }

    /// <summary>Asserts |actual − expected| ≤ atol element-wise, naming the tensor and the worst element.</summary>
    public void AssertClose(string name, Tensor actual, float atol)
    {
        var expected = Expected[name].ToTensor();
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{name}: shape {string.Join(",", actual.Shape.ToArray())} vs expected {string.Join(",", expected.Shape.ToArray())}");
        var (worst, at) = (0f, -1);
        var a = actual.Data;
        var e = expected.Data;
        for (var i = 0; i < e.Length; i++)
        {
            var d = MathF.Abs(a[i] - e[i]);
            if (!(d <= worst))
            {
                (worst, at) = (float.IsNaN(d) ? float.PositiveInfinity : d, i);
            }
        }

        Assert.True(worst <= atol, $"{name}: max |diff| {worst:g4} at flat index {at} exceeds atol {atol:g4}");
    }

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("TOKENIDLE_FIXTURES");
        if (!string.IsNullOrEmpty(env))
        {
            return env;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenIdle.sln")))
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "fixtures"), Path.Combine(dir.FullName, "..", "shared", "fixtures") })
                {
                    if (System.IO.Directory.Exists(candidate))
                    {
                        return Path.GetFullPath(candidate);
                    }
                }
            }
        }

        throw new DirectoryNotFoundException("fixtures not found: set TOKENIDLE_FIXTURES or place shared/fixtures beside the repository");
    }
}
