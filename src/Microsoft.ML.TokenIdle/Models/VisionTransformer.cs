using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// timm's VisionTransformer with one class token (ViT / DeiT): patch embedding, class token,
/// learned position embedding, <c>depth</c> pre-norm blocks, final norm and linear head on the
/// class token. Parameter names match timm state dicts, so timm/DeiT weights load as they are.
/// </summary>
public sealed class VisionTransformer : Module
{
    /// <summary>Builds the model with timm's initialisation (truncated normal 0.02, zero biases, class token N(0, 1e-6)).</summary>
    public VisionTransformer(VisionTransformerConfig config, int seed = 0)
    {
        config.Validate();
        Config = config;
        var random = new Random(seed);
        var e = config.EmbedDim;
        PatchEmbed = Child("patch_embed", new PatchEmbed(config.PatchSize, config.InChannels, e, random));
        ClsToken = Parameter("cls_token", Init.Normal(random, 1e-6f, new[] { 1, 1, e }));
        PosEmbed = Parameter("pos_embed", Init.TruncatedNormal(random, 0.02f, new[] { 1, config.NumPatches + 1, e }));
        var blocks = new Block[config.Depth];
        for (var i = 0; i < config.Depth; i++)
        {
            var dropPath = config.Depth > 1 ? (float)(config.DropPathRate * i / (config.Depth - 1)) : (float)config.DropPathRate;
            blocks[i] = new Block(e, config.NumHeads, config.MlpHidden, config.QkvBias, (float)config.LayerNormEps, dropPath, random);
        }

        Blocks = Child("blocks", new BlockList(blocks));
        Norm = Child("norm", new LayerNorm(e, (float)config.LayerNormEps));
        Head = Child("head", new Linear(e, config.NumClasses, true, random));
    }

    /// <summary>The architecture.</summary>
    public VisionTransformerConfig Config { get; }

    /// <summary>
    /// Restarts every block's drop-path random stream from <paramref name="seed"/>, so that a training
    /// step's stochastic depth depends only on the seed it is given (a resumed run repeats it).
    /// </summary>
    public void SeedStochasticDepth(int seed)
    {
        for (var i = 0; i < Blocks.Count; i++)
        {
            Blocks[i].DropPathRandom = new Random(Seeds.Derive(seed, 0, i));
        }
    }

    /// <summary>Patch embedding.</summary>
    public PatchEmbed PatchEmbed { get; }

    /// <summary>[1,1,E].</summary>
    public Tensor ClsToken { get; }

    /// <summary>[1, 1 + patches, E].</summary>
    public Tensor PosEmbed { get; }

    /// <summary>The transformer blocks.</summary>
    public BlockList Blocks { get; }

    /// <summary>Final norm.</summary>
    public LayerNorm Norm { get; }

    /// <summary>Classifier.</summary>
    public Linear Head { get; }

    /// <summary>Images [B,C,H,W] → tokens [B, 1 + patches, E] (class token first, positions added).</summary>
    public Tensor Embed(Tensor images)
    {
        var c = Config;
        if (images.Rank != 4 || images.Size(1) != c.InChannels || images.Size(2) != c.ImageSize || images.Size(3) != c.ImageSize)
        {
            throw new ArgumentException($"the model expects images [B,{c.InChannels},{c.ImageSize},{c.ImageSize}], got {ShapeUtil.Format(images.Shape)}");
        }

        var patches = PatchEmbed.Forward(images);
        var cls = Ops.Add(Tensor.Zeros(images.Size(0), 1, c.EmbedDim), ClsToken);
        return Ops.Add(Ops.Concat(1, cls, patches), PosEmbed);
    }

    /// <summary>Tokens [B,N,E] → logits [B, classes] from the class token after the final norm.</summary>
    public Tensor Classify(Tensor tokens) => Head.Forward(ClassFeature(tokens));

    /// <summary>The class token after the final norm, [B,E] (the feature used by distillation).</summary>
    public Tensor ClassFeature(Tensor tokens)
        => Norm.Forward(Ops.Reshape(Ops.Slice(tokens, 1, 0, 1), tokens.Size(0), tokens.Size(2)));

    /// <summary>
    /// The plain forward pass: logits [B, classes]. Outside a gradient tape each block runs in its own
    /// <see cref="TensorScope"/>, so scoring reuses memory block by block.
    /// </summary>
    /// <param name="images">[B,C,H,W].</param>
    /// <param name="blockOutputs">If given, receives each block's output tokens [B,N,E].</param>
    public Tensor Forward(Tensor images, IList<Tensor>? blockOutputs = null) => Classify(ForwardTokens(images, blockOutputs));

    /// <summary>The tokens [B,N,E] after the last block (see <see cref="Forward"/>).</summary>
    public Tensor ForwardTokens(Tensor images, IList<Tensor>? blockOutputs = null)
    {
        var x = Embed(images);
        foreach (var block in Blocks)
        {
            x = TensorScope.Run(() => block.Forward(x), y => new[] { y });
            blockOutputs?.Add(x);
        }

        return x;
    }

    /// <summary>
    /// A <c>pos_embed</c> made for another grid is resampled to this model's grid (antialiased
    /// bicubic, as timm's <c>resample_abs_pos_embed</c>); everything else loads as it is.
    /// </summary>
    protected override Tensor AdaptLoadedValue(string name, Tensor value, Tensor parameter)
        => name == "pos_embed" && !ShapeUtil.SameShape(value.Shape, parameter.Shape) && value.Rank == 3 && value.Size(2) == parameter.Size(2)
            ? PositionEmbeddingResampler.Resample(value, Config.GridSize)
            : value;

    /// <summary>The blocks as a module list named <c>0</c>, <c>1</c>, ….</summary>
    public sealed class BlockList : Module, IReadOnlyList<Block>
    {
        private readonly Block[] _blocks;

        internal BlockList(Block[] blocks)
        {
            _blocks = blocks;
            for (var i = 0; i < blocks.Length; i++)
            {
                Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture), blocks[i]);
            }
        }

        /// <inheritdoc/>
        public int Count => _blocks.Length;

        /// <inheritdoc/>
        public Block this[int index] => _blocks[index];

        /// <inheritdoc/>
        public IEnumerator<Block> GetEnumerator() => ((IEnumerable<Block>)_blocks).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _blocks.GetEnumerator();
    }
}
