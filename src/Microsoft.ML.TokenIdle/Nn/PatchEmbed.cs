using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// timm's patch embedding: a P×P stride-P convolution <c>proj</c> (weight [E,C,P,P]), computed as
/// patch extraction plus one matrix product with the weight viewed as [E, C·P·P].
/// </summary>
public sealed class PatchEmbed : Module
{
    /// <summary>Creates the layer with PyTorch's default convolution initialisation.</summary>
    public PatchEmbed(int patchSize, int inChannels, int dim, Random random)
    {
        PatchSize = patchSize;
        var fanIn = inChannels * patchSize * patchSize;
        var bound = 1f / MathF.Sqrt(fanIn);
        Proj = Child("proj", new ConvolutionWeights(
            Init.Uniform(random, bound, new[] { dim, inChannels, patchSize, patchSize }),
            Init.Uniform(random, bound, new[] { dim })));
    }

    /// <summary>P.</summary>
    public int PatchSize { get; }

    /// <summary>The convolution's parameters.</summary>
    public ConvolutionWeights Proj { get; }

    /// <summary>Images [B,C,H,W] → patch tokens [B, (H/P)·(W/P), E].</summary>
    public Tensor Forward(Tensor images)
    {
        var w = Proj.Weight;
        if (images.Rank != 4 || images.Size(1) != w.Size(1))
        {
            throw new ArgumentException($"patch embedding expects images [B,{w.Size(1)},H,W], got {Tensors.ShapeUtil.Format(images.Shape)}");
        }

        return Ops.Linear(Ops.Patchify(images, PatchSize), Ops.Reshape(w, w.Size(0), -1), Proj.Bias);
    }

    /// <summary>The <c>weight</c> [E,C,P,P] and <c>bias</c> [E] of the patch convolution.</summary>
    public sealed class ConvolutionWeights : Module
    {
        internal ConvolutionWeights(Tensor weight, Tensor bias)
        {
            Weight = Parameter("weight", weight);
            Bias = Parameter("bias", bias);
        }

        /// <summary>[E,C,P,P].</summary>
        public Tensor Weight { get; }

        /// <summary>[E].</summary>
        public Tensor Bias { get; }
    }
}
