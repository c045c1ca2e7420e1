using System.Text.Json;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

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
        var model = VisionTransformer.Load(Config, WeightsPath);
        model.eval();
        return model;
    }

    public Tensor Input => Expected["input"].ToTensor();

    public int[] Labels => Expected["labels"].ToInt64().Select(l => (int)l).ToArray();

    /// <summary>The <c>settings</c> object of a case.</summary>
    public JsonElement Settings(string caseName) => Case(caseName).GetProperty("settings");

    /// <summary>A per-layer list of numbers from a case's settings.</summary>
    public double[] SettingList(string caseName, string key)
        => Settings(caseName).GetProperty(key).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <summary>The index checks of a case: tensor name and whether the stored order is reliable.</summary>
    public IEnumerable<(string Tensor, bool OrderReliable)> IndexChecks(string caseName)
        => Case(caseName).GetProperty("checks").EnumerateArray()
            .Where(c => c.GetProperty("dtype").GetString() == "I64")
            .Select(c => (c.GetProperty("tensor").GetString()!, !c.TryGetProperty("order_check_reliable", out var r) || r.GetBoolean()));

    /// <summary>Rows [B][k] of an I64 expected tensor.</summary>
    public int[][] IndexRows(string name)
    {
        var entry = Expected[name];
        var values = entry.ToInt64();
        var k = (int)entry.Shape[^1];
        return Enumerable.Range(0, values.Length / k).Select(b => values.Skip(b * k).Take(k).Select(v => (int)v).ToArray()).ToArray();
    }

    private JsonElement Case(string caseName)
        => Cases.EnumerateArray().FirstOrDefault(c => c.GetProperty("name").GetString() == caseName) is { ValueKind: JsonValueKind.Object } c
            ? c
            : throw new KeyNotFoundException($"no case '{caseName}' in {Directory}");

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

    /// <summary>Asserts |actual − expected| ≤ atol element-wise (the fixtures' error model: max(1e-4, 100 × the reference's float32-vs-float64 error)), naming the tensor and the worst element.</summary>
    public void AssertClose(string name, Tensor actual, float atol) => AssertClose(name, actual, atol, Expected[name].ToTensor());

    /// <summary>As <see cref="AssertClose(string, Tensor, float)"/>, against <paramref name="expected"/> (a tensor of another fixture file).</summary>
    public static void AssertClose(string name, Tensor actual, float atol, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var values = actual.detach().cpu().to(float32);
        if (values.dim() == 0)
        {
            values = values.reshape(1);
        }

        Assert.True(expected.shape.SequenceEqual(values.shape), $"{name}: shape [{string.Join(",", values.shape)}] vs expected [{string.Join(",", expected.shape)}]");
        var difference = (values - expected).abs().nan_to_num(nan: double.PositiveInfinity).flatten();
        var at = difference.argmax().item<long>();
        var worst = difference[at].item<float>();
        NumericBounds.Within("FixtureAtol", worst, atol, $"{name}: max |diff| at flat index {at}");
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
