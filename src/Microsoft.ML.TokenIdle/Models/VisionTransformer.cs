using Microsoft.ML.TokenIdle.Engine;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// timm's VisionTransformer with one class token (ViT / DeiT) as a TorchSharp module: patch embedding, class
/// token, learned position embedding, <c>depth</c> pre-norm blocks, final norm and linear head on the class token.
/// Module and parameter names are timm's (<c>patch_embed.proj.weight</c>, <c>cls_token</c>, <c>pos_embed</c>,
/// <c>blocks.0.attn.qkv.weight</c>, <c>norm</c>, <c>head</c>), so timm/DeiT safetensors load as they are.
/// </summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    // The largest scoring batch whose memory estimate was checked against what the device has.
    private int _scoringCheckedBatch;

    /// <summary>Builds the model with timm's initialisation drawn from <paramref name="seed"/> (truncated normal 0.02, zero biases, class token N(0, 1e-6)).</summary>
    public VisionTransformer(VisionTransformerConfig config, int seed = 0)
        : this(config, (int?)seed)
    {
    }

    // A null seed leaves the parameters uninitialised, for stored weights that replace them all.
    private VisionTransformer(VisionTransformerConfig config, int? seed)
        : base(nameof(VisionTransformer))
    {
        TorchEngine.EnsureLoaded();
        config.Validate();
        Config = config;
        using var generator = seed is { } s ? new Generator((ulong)s) : null;
        var e = config.EmbedDim;
        PatchEmbed = new PatchEmbed(config.PatchSize, config.InChannels, e, generator);
        ClsToken = nn.Parameter(zeros(1, 1, e, dtype: float32, device: CPU));
        PosEmbed = nn.Parameter(zeros(1, config.NumPatches + 1, e, dtype: float32, device: CPU));
        TimmInit.Normal(ClsToken, 1e-6, generator);
        TimmInit.TruncatedNormal(PosEmbed, 0.02, generator);

        Blocks = nn.ModuleList(Enumerable.Range(0, config.Depth).Select(i => new Block(e, config.NumHeads, config.MlpHidden, config.QkvBias, config.LayerNormEps,
            config.Depth > 1 ? config.DropPathRate * i / (config.Depth - 1) : config.DropPathRate, generator)).ToArray());
        Norm = nn.LayerNorm(e, config.LayerNormEps, device: CPU, dtype: float32);
        Head = nn.Linear(e, config.NumClasses, device: CPU, dtype: float32);
        TimmInit.Linear(Head, generator);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public VisionTransformerConfig Config { get; }

    /// <summary>Patch embedding.</summary>
    [field: ComponentName(Name = "patch_embed")]
    public PatchEmbed PatchEmbed { get; }

    /// <summary>[1,1,E].</summary>
    [field: ComponentName(Name = "cls_token")]
    public Parameter ClsToken { get; }

    /// <summary>[1, 1 + patches, E].</summary>
    [field: ComponentName(Name = "pos_embed")]
    public Parameter PosEmbed { get; }

    /// <summary>The transformer blocks.</summary>
    [field: ComponentName(Name = "blocks")]
    public ModuleList<Block> Blocks { get; }

    /// <summary>Final norm.</summary>
    [field: ComponentName(Name = "norm")]
    public LayerNorm Norm { get; }

    /// <summary>The device the parameters are on (where inputs must go).</summary>
    public Device Device => Head.weight!.device;

    /// <summary>
    /// Refuses in one line to score batches of <paramref name="batchSize"/> images with <paramref name="method"/> when
    /// their estimated memory exceeds what the model's device has available, naming <paramref name="knobs"/>; checked
    /// again only for a larger batch.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The estimate exceeds what is available.</exception>
    public void EnsureScoringFits(int batchSize, IReducedForward? method, string knobs)
    {
        if (batchSize > _scoringCheckedBatch)
        {
            MemoryEstimate.ForScoring(Config, method, batchSize, ClsToken.dtype).EnsureFits(AvailableMemory.For(Device), knobs);
            _scoringCheckedBatch = batchSize; // scoring threads may race here: a lost update only checks again
        }
    }

    /// <summary>Classifier.</summary>
    [field: ComponentName(Name = "head")]
    public Linear Head { get; }

    /// <summary>
    /// Restarts every block's drop-path random stream from <paramref name="seed"/>, so that a training step's
    /// stochastic depth depends only on the seed it is given (a resumed run repeats it). The streams are CPU
    /// generators on every device (TorchSharp makes no other kind), so CPU and CUDA runs draw the same decisions.
    /// </summary>
    public void SeedStochasticDepth(int seed)
    {
        for (var i = 0; i < Blocks.Count; i++)
        {
            Blocks[i].DropPathGenerator?.Dispose();
            Blocks[i].DropPathGenerator = new Generator((ulong)Seeds.Derive(seed, 0, i));
        }
    }

    /// <summary>
    /// A frozen copy of the weights on this model's device and in its number format, gradients off, in evaluation
    /// mode: distillation's teacher. Built uninitialised on the CPU, placed, then filled device to device.
    /// </summary>
    public VisionTransformer FrozenCopy()
    {
        var copy = new VisionTransformer(Config, seed: null);
        copy.to(Device).to(ClsToken.dtype);
        using (var _ = no_grad())
        {
            foreach (var ((_, target), (_, source)) in copy.NamedParameters().Zip(this.NamedParameters()))
            {
                target.copy_(source);
            }
        }

        foreach (var p in copy.parameters())
        {
            p.requires_grad = false;
        }

        copy.eval();
        return copy;
    }

    /// <summary>Images [B,C,H,W] → tokens [B, 1 + patches, E] (class token first, positions added).</summary>
    /// <exception cref="ArgumentException">The images do not have the model's channels and size.</exception>
    public Tensor Embed(Tensor images)
    {
        var c = Config;
        if (images.dim() != 4 || images.shape[1] != c.InChannels || images.shape[2] != c.ImageSize || images.shape[3] != c.ImageSize)
        {
            throw new ArgumentException($"the model expects images [B,{c.InChannels},{c.ImageSize},{c.ImageSize}], got {Shapes.Format(images.shape)}");
        }

        // Inputs come as float32; a model converted to another precision takes them in its own, and mixed precision's
        // patches (products in bfloat16) join the float32 tokens as float32.
        var patches = PatchEmbed.forward(images.to_type(ClsToken.dtype)).to_type(ClsToken.dtype);
        return cat(new[] { ClsToken.expand(images.shape[0], -1, -1), patches }, 1) + PosEmbed;
    }

    /// <summary>Tokens [B,N,E] → logits [B, classes] from the class token after the final norm.</summary>
    public Tensor Classify(Tensor tokens) => Logits(ClassFeature(tokens));

    /// <summary>The head's logits [B, classes] of class features [B,E].</summary>
    public Tensor Logits(Tensor feature) => MixedPrecision.Linear(Head, feature);

    /// <summary>The class token after the final norm, [B,E] (the feature used by distillation).</summary>
    public Tensor ClassFeature(Tensor tokens) => Norm.forward(tokens[.., 0]);

    /// <summary>The plain forward pass: logits [B, classes] of images [B,C,H,W].</summary>
    public override Tensor forward(Tensor images) => Classify(ForwardTokens(images));

    /// <summary>
    /// The tokens [B,N,E] after the last block; <paramref name="blockOutputs"/> receives each block's output. Each
    /// block runs in its own dispose scope, so a forward pass holds one block's temporaries at a time.
    /// </summary>
    public Tensor ForwardTokens(Tensor images, IList<Tensor>? blockOutputs = null)
    {
        var x = Embed(images);
        foreach (var block in Blocks)
        {
            using var scope = NewDisposeScope();
            x = block.forward(x).MoveToOuterDisposeScope();
            blockOutputs?.Add(x);
        }

        return x;
    }

    /// <summary>
    /// Builds a model of <paramref name="config"/> with timm/DeiT safetensors weights (F32, F16 or BF16), checking every
    /// stored shape against the config before anything is allocated; a <c>pos_embed</c> made for another grid is
    /// resampled to this model's grid (antialiased bicubic, as timm's <c>resample_abs_pos_embed</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not safetensors, or a key is missing, unexpected or mis-shaped.</exception>
    public static VisionTransformer Load(VisionTransformerConfig config, string weightsPath)
        => FromWeights(config, SafetensorsFile.Read(weightsPath), weightsPath);

    /// <summary>
    /// Builds a model of <paramref name="config"/> from parsed weights (see <see cref="Load"/>); every parameter comes
    /// from <paramref name="weights"/>, so the model is not initialised first.
    /// </summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped.</exception>
    public static VisionTransformer FromWeights(VisionTransformerConfig config, IReadOnlyDictionary<string, SafetensorsEntry> weights, string source)
    {
        CheckWeights(config, weights.ToDictionary(kv => kv.Key, kv => kv.Value.Shape), source);
        var model = new VisionTransformer(config, seed: null);
        using var scope = NewDisposeScope();
        model.LoadStateDict(weights.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()), source);
        return model;
    }

    /// <summary>Checks stored weight shapes against <paramref name="config"/> without building the model (see <see cref="Load"/>).</summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped.</exception>
    public static void CheckWeights(VisionTransformerConfig config, IReadOnlyDictionary<string, long[]> shapes, string source)
        => ModuleWeights.CheckShapes(config.ParameterShapes(), shapes, source, AcceptsStoredShape);

    /// <summary>Copies a state dict into the model, resampling a <c>pos_embed</c> of another grid (see <see cref="Load"/>).</summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string source = "state dict")
        => ModuleWeights.LoadStateDict(this, state, source, AcceptsStoredShape, (_, value, _) => PositionEmbeddingResampler.Resample(value, Config.GridSize));

    // A position embedding [1, 1 + g·g, E] of another square grid is resampled; every other shape must match.
    private static bool AcceptsStoredShape(string name, long[] stored, long[] expected)
        => name == "pos_embed" && stored.Length == 3 && stored[0] == 1 && stored[2] == expected[2] && stored[1] > 1
            && (long)Math.Sqrt(stored[1] - 1) is var g && g * g == stored[1] - 1;
}
