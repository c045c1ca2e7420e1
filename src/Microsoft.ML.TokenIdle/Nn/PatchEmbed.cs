using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>timm's patch embedding: a P×P stride-P convolution <c>proj</c> (weight [E,C,P,P]), flattened to tokens.</summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with PyTorch's default convolution initialisation, drawn from <paramref name="generator"/> (null: no draw, for weights about to be loaded).</summary>
    public PatchEmbed(int patchSize, int inChannels, int dim, Generator? generator)
        : base(nameof(PatchEmbed))
    {
        PatchSize = patchSize;
        Proj = nn.Conv2d(inChannels, dim, kernel_size: patchSize, stride: patchSize, device: CPU, dtype: ScalarType.Float32);
        TimmInit.Convolution(Proj, generator);
        RegisterComponents();
    }

    /// <summary>P.</summary>
    public int PatchSize { get; }

    /// <summary>The convolution.</summary>
    [field: ComponentName(Name = "proj")]
    public Conv2d Proj { get; }

    /// <summary>Images [B,C,H,W] → patch tokens [B, (H/P)·(W/P), E], raster order.</summary>
    public override Tensor forward(Tensor images) => MixedPrecision.Convolution(Proj, images).flatten(2).transpose(1, 2);
}
