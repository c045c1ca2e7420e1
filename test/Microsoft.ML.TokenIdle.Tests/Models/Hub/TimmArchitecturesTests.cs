using System.Text;
using Microsoft.ML.TokenIdle.Models.Hub;

namespace Microsoft.ML.TokenIdle.Tests.Models.Hub;

public sealed class TimmArchitecturesTests
{
    private static byte[] Json(string architecture, string pretrained = "") => Encoding.UTF8.GetBytes($$"""{"architecture": "{{architecture}}", "num_classes": 1000{{pretrained}}}""");

    [Theory]
    [InlineData("vit_tiny_patch16_224", 224, 16, 192, 12, 3)]
    [InlineData("vit_small_patch32_384", 384, 32, 384, 12, 6)]
    [InlineData("vit_base_patch16_384", 384, 16, 768, 12, 12)]
    [InlineData("vit_large_patch16_224", 224, 16, 1024, 24, 16)]
    [InlineData("deit_base_patch16_384", 384, 16, 768, 12, 12)]
    public void TimmsNamesGiveTheirShapes(string architecture, int size, int patch, int width, int depth, int heads)
    {
        var config = TimmArchitectures.FromHubConfig(Json(architecture), "config.json");
        Assert.Equal((size, patch, width, depth, heads, 1000), (config.ImageSize, config.PatchSize, config.EmbedDim, config.Depth, config.NumHeads, config.NumClasses));
        Assert.Null(config.Interpolation);
    }

    [Fact]
    public void ThePretrainedConfigSetsSizeNormalisationAndInterpolation()
    {
        var config = TimmArchitectures.FromHubConfig(Json("vit_base_patch16_224", """, "pretrained_cfg": {"input_size": [3, 256, 256], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bicubic"}"""), "config.json");
        Assert.Equal(256, config.ImageSize);
        Assert.Equal(new[] { 0.5, 0.5, 0.5 }, config.Mean);
        Assert.Equal(Microsoft.ML.TokenIdle.Imaging.ResamplingFilter.Bicubic, config.InputFormat.Filter);
    }

    [Theory]
    [InlineData("deit_small_distilled_patch16_224", "a distilled DeiT carries a second (distillation) token")]
    [InlineData("deit3_small_patch16_224", "DeiT III scales each residual branch (layer scale, timm's ls1/ls2)")]
    [InlineData("resnet50", "not one of the plain ViT/DeiT architectures")]
    [InlineData("vit_huge_patch14_224", "not one of the plain ViT/DeiT architectures")]
    public void OtherArchitecturesAreRefusedByName(string architecture, string reason)
    {
        var e = Assert.Throws<InvalidDataException>(() => TimmArchitectures.FromHubConfig(Json(architecture), "timm/x/config.json"));
        Assert.StartsWith($"'timm/x/config.json': architecture '{architecture}' is not supported: ", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Contains("Supported: vit_{tiny,small,base,large}_patch{16,32}_{224,384} and deit_{tiny,small,base}_patch16_{224,384}", e.Message);
    }

    [Fact]
    public void ModelArgsBeyondTheInputSizeAreRefused()
    {
        var sized = TimmArchitectures.FromHubConfig(Json("vit_small_patch16_224", """, "model_args": {"img_size": 256}"""), "config.json");
        Assert.Equal(256, sized.ImageSize);
        var e = Assert.Throws<InvalidDataException>(() => TimmArchitectures.FromHubConfig(Json("vit_small_patch16_224", """, "model_args": {"img_size": 256, "class_token": false, "global_pool": "avg"}"""), "config.json"));
        Assert.Equal("'config.json': model_args class_token, global_pool change timm's vit_small_patch16_224, which this library does not build", e.Message);
    }

    [Theory]
    [InlineData("not json", "is not JSON")]
    [InlineData("""{"num_classes": 10}""", "has no \"architecture\": not a timm model config")]
    public void AFileThatIsNotATimmConfigIsRefused(string text, string message)
        => Assert.Contains(message, Assert.Throws<InvalidDataException>(() => TimmArchitectures.FromHubConfig(Encoding.UTF8.GetBytes(text), "config.json")).Message);
}
