using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Tests.Fuzzing;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models;

public class VisionTransformerTests
{
    private static readonly VisionTransformerConfig Small = new() { ImageSize = 16, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, NumClasses = 5 };

    [Fact]
    public void ParameterNamesAndShapesFollowTimm()
    {
        using var model = new VisionTransformer(VisionTransformerConfig.DeitSmall);
        var state = model.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(new long[] { 384, 3, 16, 16 }, state["patch_embed.proj.weight"].shape);
        Assert.Equal(new long[] { 1, 197, 384 }, state["pos_embed"].shape);
        Assert.Equal(new long[] { 1152, 384 }, state["blocks.11.attn.qkv.weight"].shape);
        Assert.Equal(new long[] { 1536, 384 }, state["blocks.0.mlp.fc1.weight"].shape);
        Assert.Equal(new long[] { 1000, 384 }, state["head.weight"].shape);
        Assert.Equal(4 + 12 * 12 + 4, state.Count);

        // DeiT-S has 22.05 M parameters.
        Assert.Equal(22_050_664, state.Values.Sum(p => p.NumberOfElements));
    }

    [Fact]
    public void InitialisationIsTimmLike()
    {
        using var model = new VisionTransformer(VisionTransformerConfig.DeitTiny, seed: 3);
        var w = model.Blocks[0].Attn.Qkv.weight!.data<float>().ToArray();
        var mean = w.Average();
        var std = Math.Sqrt(w.Select(v => (v - mean) * (v - mean)).Average());
        // 110,592 draws: the sample standard deviation is within 0.2 % of 0.02 at one sigma, so ±5 % is about 24 sigma.
        Assert.InRange(std, 0.019, 0.021);
        Assert.All(model.Blocks[0].Attn.Qkv.bias!.data<float>().ToArray(), b => Assert.Equal(0f, b));
        Assert.All(model.Norm.weight!.data<float>().ToArray(), g => Assert.Equal(1f, g));
        // N(0, 1e-6): 192 draws, each below ten sigma.
        Assert.True(model.ClsToken.data<float>().ToArray().All(v => Math.Abs(v) < 1e-5));
        using var other = new VisionTransformer(VisionTransformerConfig.DeitTiny, seed: 4);
        Assert.NotEqual(w, other.Blocks[0].Attn.Qkv.weight!.data<float>().ToArray());
        using var same = new VisionTransformer(VisionTransformerConfig.DeitTiny, seed: 3);
        Assert.Equal(w, same.Blocks[0].Attn.Qkv.weight!.data<float>().ToArray());
    }

    [Fact]
    public void SaveAndLoadRoundTrip()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vit-{Guid.NewGuid():N}.safetensors");
        using var a = new VisionTransformer(Small, seed: 1);
        a.SaveWeights(path);
        using var b = VisionTransformer.Load(Small, path);
        using var images = randn(2, 3, 16, 16);
        Assert.Equal(a.forward(images).data<float>().ToArray(), b.forward(images).data<float>().ToArray());
        File.Delete(path);
    }

    [Fact]
    public void MissingExtraAndMisshapedKeysAreNamed()
    {
        using var model = new VisionTransformer(Small);
        var state = model.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value);

        var missing = new Dictionary<string, Tensor>(state);
        missing.Remove("blocks.1.norm2.bias");
        var e = Assert.Throws<InvalidDataException>(() => model.LoadStateDict(missing, "w.safetensors"));
        Assert.Contains("missing key 'blocks.1.norm2.bias'", e.Message);
        Assert.Contains("[16]", e.Message);

        var extra = new Dictionary<string, Tensor>(state) { ["dist_token"] = zeros(1, 1, 16) };
        e = Assert.Throws<InvalidDataException>(() => model.LoadStateDict(extra, "w.safetensors"));
        Assert.Contains("unexpected key 'dist_token'", e.Message);

        var wrong = new Dictionary<string, Tensor>(state) { ["head.weight"] = zeros(7, 16) };
        e = Assert.Throws<InvalidDataException>(() => model.LoadStateDict(wrong, "w.safetensors"));
        Assert.Contains("'head.weight' has shape [7,16], the model expects [5,16]", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheConfigsParameterShapesAreTheModulesOwn(bool qkvBias)
    {
        var config = Small with { QkvBias = qkvBias };
        using var model = new VisionTransformer(config);
        var own = model.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(own.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, Shapes.Format(kv.Value))),
            config.ParameterShapes().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, Shapes.Format(kv.Value))));
        Assert.Equal(own.Values.Sum(Shapes.Count), config.ParameterCount());
    }

    [Fact]
    public void WeightsAreCheckedAgainstTheConfigBeforeTheModelIsBuilt()
    {
        // 1.2 billion parameters (about 5 GB) would be allocated if the model were built before the check.
        var path = Path.Combine(Path.GetTempPath(), $"vit-{Guid.NewGuid():N}.safetensors");
        new VisionTransformer(Small).SaveWeights(path);
        var huge = Small with { EmbedDim = 1024, NumHeads = 16, Depth = 96 };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => VisionTransformer.Load(huge, path));
        Assert.InRange(watch.Elapsed.TotalSeconds, 0, 2);
        Assert.Equal($"'{path}': key 'cls_token' has shape [1,1,16], the model expects [1,1,1024]", e.Message);
        File.Delete(path);
    }

    [Fact]
    public void PositionEmbeddingIsResampledWhenLoadingAtAnotherSize()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vit-{Guid.NewGuid():N}.safetensors");
        new VisionTransformer(Small).SaveWeights(path);
        var larger = VisionTransformer.Load(Small with { ImageSize = 24 }, path);
        Assert.Equal(new long[] { 1, 37, 16 }, larger.PosEmbed.shape);
        File.Delete(path);
    }

    /// <summary>Expected values from torch 1.13: F.interpolate(grid, size, mode='bicubic', antialias=True, align_corners=False), as timm's resample_abs_pos_embed.</summary>
    [Theory]
    [InlineData(6, new[] { 0.000000f, 0.963558f, 0.515501f, 0.683498f, 1.069705f, -0.111208f, 0.904181f, 0.829178f, -0.460572f, 1.122631f, 0.385989f, -0.916128f, 1.037961f, -0.143285f, -1.114618f, 0.667124f, -0.652670f, -1.016301f, 0.360000f, -0.952487f, -0.869578f, 0.163090f, -0.096517f, -0.214726f, 0.100308f, -0.148575f, -0.179796f, -0.002247f, -0.207422f, -0.108723f, -0.100623f, -0.209616f, -0.011521f, -0.175121f, -0.154718f, 0.092348f, -0.212773f, -0.104899f, 0.156652f, -0.340274f, -0.868549f, -0.124398f, -0.560408f, -0.743709f, 0.162525f, -0.816913f, -0.478268f, 0.561041f, -0.849432f, -0.096235f, 0.797946f, -0.651453f, 0.325897f, 0.825807f, -0.464518f, 0.591082f, 0.780745f, -0.093757f, 0.813899f, 0.529191f, 0.191227f, 0.832327f, 0.254065f, 0.583684f, 0.765030f, -0.174394f, 0.808781f, 0.498733f, -0.541961f, 0.821452f, 0.086753f, -0.775039f, 0.766274f, -0.203542f, -0.875168f, 0.198036f, 0.141987f, -0.122074f, 0.206860f, 0.074843f, -0.166819f, 0.196301f, -0.031172f, -0.212978f, 0.134445f, -0.125273f, -0.201466f, 0.033677f, -0.188619f, -0.134588f, -0.038296f, -0.217545f, -0.078090f, 0.389827f, -0.934562f, -0.889816f, 0.008773f, -1.048323f, -0.569623f, -0.545872f, -1.095129f, -0.040019f, -0.937436f, -0.852059f, 0.481586f, -1.087518f, -0.367783f, 0.890756f, -1.106218f, -0.005868f, 1.103079f })]
    [InlineData(3, new[] { 0.000000f, 0.963558f, 0.515501f, 0.400830f, 0.276115f, -0.253109f, 0.378840f, -0.095994f, -0.430197f, 0.072884f, -0.396150f, -0.284823f, -0.201890f, 0.012580f, 0.208620f, -0.068701f, 0.172895f, 0.161199f, 0.115984f, 0.203614f, -0.007051f, 0.209351f, -0.314136f, -0.377414f, -0.171203f, -0.426556f, -0.057004f, -0.423429f, -0.219243f, 0.306134f })]
    public void ResamplingMatchesTorchAntialiasedBicubic(int newGrid, float[] expected)
    {
        const int e = 3;
        var values = Enumerable.Range(0, 17 * e).Select(i => MathF.Sin(i / e * 0.7f + i % e * 1.3f)).ToArray();
        using var pos = tensor(values, new long[] { 1, 17, e });
        var actual = PositionEmbeddingResampler.Resample(pos, newGrid).data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < actual.Length; i++)
        {
            // The expected values are printed to six decimals (±5e-7); float32 interpolation of values below 1.2 adds a few ulps (1e-7 each).
            NumericBounds.Within("PrintedReference", Math.Abs(actual[i] - expected[i]), 2e-6, $"element {i} against torch's");
        }
    }

    [Theory]
    [InlineData("""{"img_size": 30, "patch_size": 4}""", "lacks in_chans, num_classes, embed_dim, depth, num_heads (required: img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads)")]
    [InlineData("""{"img_size": 30, "patch_size": 4, "in_chans": 3, "num_classes": 5, "embed_dim": 16, "depth": 2, "num_heads": 2}""", ": img_size 30 is not a multiple of patch_size 4")]
    [InlineData("""{"img_size": 32, "img_size": 16, "patch_size": 4, "in_chans": 3, "num_classes": 5, "embed_dim": 16, "depth": 2, "num_heads": 2}""", ": field 'img_size' appears twice")]
    [InlineData("""{"img_size": 32, "patch_size": 4, "in_chans": 3, "num_classes": 5, "embed_dim": 4096, "depth": 100000, "num_heads": 2}""", ": depth must be between 1 and 1024, got 100000")]
    [InlineData("""{"img_size": 224, "patch_size": 16, "in_chans": 3, "num_classes": 5, "embed_dim": 16384, "depth": 1024, "num_heads": 16}""", "parameters (MLP width 65536), outside 1 to 4,294,967,296")]
    [InlineData("""{"img_size": 32, "patch_size": 4, "in_chans": 3, "num_classes": 5, "embed_dim": 16, "depth": 2, "num_heads": 2, "mean": [0.5, 0.5, "x"], "std": [1, 1, 1]}""", "is not valid: The JSON value could not be converted")]
    [InlineData("""[1, 2]""", "is not a JSON object")]
    [InlineData("""{not json""", "is not valid: ")]
    public void ConfigErrorsNameTheFileAndTheField(string json, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cfg-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => VisionTransformerConfig.Load(path));
        Assert.StartsWith($"config '{path}'", e.Message);
        Assert.Contains(expected, e.Message);
        File.Delete(path);
    }

    [Fact]
    public void MutantsOfAConfigParseOrFailWithInvalidDataExceptionInBoundedTimeAndMemory()
    {
        var original = System.Text.Encoding.UTF8.GetBytes((Small with { Mean = new[] { 0.5, 0.5, 0.5 }, Std = new[] { 0.25, 0.25, 0.25 }, DropPathRate = 0.1 }).ToJson());
        var counts = FuzzRun.Run("config-json", original, bytes => VisionTransformerConfig.Parse(bytes, "mutant"), new[] { typeof(InvalidDataException) }, TimeSpan.FromSeconds(1), (1 << 20) + 64 * original.Length);
        Assert.True(counts.GetValueOrDefault(nameof(InvalidDataException)) > FuzzRun.Mutants / 4, string.Join(", ", counts));
    }

    [Fact]
    public void AConfigThatIsADeviceOrAPresetThatDoesNotExistIsRefused()
    {
        Assert.Equal("config file '/dev/zero' is empty or not a regular file", Assert.Throws<InvalidDataException>(() => VisionTransformerConfig.Load("/dev/zero")).Message);
        Assert.Throws<ArgumentException>(() => VisionTransformerConfig.FromPreset("deit-huge"));
    }

    [Fact]
    public void WrongImageSizeIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => new VisionTransformer(Small).forward(zeros(1, 3, 20, 20)));
        Assert.Contains("[B,3,16,16]", e.Message);
    }
}
