using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
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
    public Tensor Forward(Tensor images, IList<Tensor>? blockOutputs = null)
    {
        var x = Embed(images);
        foreach (var block in Blocks)
        {
            x = RunBlock(() => block.Forward(x));
            blockOutputs?.Add(x);
        }

        return Classify(x);
    }

    /// <summary>Runs one block's work; in inference its temporaries go back to the pool at once.</summary>
    internal static Tensor RunBlock(Func<Tensor> step)
    {
        if (GradientTape.Current is not null)
        {
            return step();
        }

        using var scope = TensorScope.Begin();
        return scope.Keep(step());
    }

    /// <summary>The parameters by timm name.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict() => NamedParameters().ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Saves the parameters as a safetensors file with timm names (atomically).</summary>
    public void SaveWeights(string path) => SafetensorsFile.Write(path, NamedParameters(), new Dictionary<string, string> { ["format"] = "pt" });

    /// <summary>
    /// Loads timm-named weights from a safetensors file (F32, F16 or BF16). Every parameter must be
    /// present with its shape, and no other key; a <c>pos_embed</c> for another grid is resampled.
    /// </summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped; the message names it and both shapes.</exception>
    public void LoadWeights(string path) => LoadStateDict(SafetensorsFile.Read(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()), path);

    /// <summary>Copies values from a state dict (see <see cref="LoadWeights"/>); <paramref name="source"/> names it in errors.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string source = "state dict")
    {
        var own = StateDict();
        var extra = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException($"'{source}': unexpected key '{extra[0]}' {ShapeUtil.Format(state[extra[0]].Shape)}" + (extra.Count > 1 ? $" (and {extra.Count - 1} more)" : string.Empty));
        }

        var resolved = new Dictionary<string, Tensor>();
        foreach (var (name, p) in own)
        {
            if (!state.TryGetValue(name, out var value))
            {
                throw new InvalidDataException($"'{source}': missing key '{name}' (expected shape {ShapeUtil.Format(p.Shape)})");
            }

            if (name == "pos_embed" && !ShapeUtil.SameShape(value.Shape, p.Shape) && value.Rank == 3 && value.Size(2) == p.Size(2))
            {
                value = PositionEmbeddingResampler.Resample(value, Config.GridSize);
            }

            if (!ShapeUtil.SameShape(value.Shape, p.Shape))
            {
                throw new InvalidDataException($"'{source}': key '{name}' has shape {ShapeUtil.Format(value.Shape)}, the model expects {ShapeUtil.Format(p.Shape)}");
            }

            resolved[name] = value;
        }

        foreach (var (name, p) in own)
        {
            resolved[name].Data.CopyTo(p.Data);
        }
    }

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
