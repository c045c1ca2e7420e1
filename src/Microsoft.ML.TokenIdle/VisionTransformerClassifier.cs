using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Internal.Utilities;
using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Serialization;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(VisionTransformerClassifier), null, typeof(SignatureLoadModel), VisionTransformerClassifier.UserName, VisionTransformerClassifier.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(VisionTransformerClassifier), null, typeof(SignatureLoadRowMapper), VisionTransformerClassifier.UserName, VisionTransformerClassifier.LoaderSignature)]

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// A trained ViT classifier, with or without its token-reduction method, as an ML.NET transformer. It adds
/// <c>Score</c> (softmax probabilities, a known-size vector with one slot per class, <c>SlotNames</c> = class
/// names, and the score-column annotations ML.NET's evaluator reads) and <c>PredictedLabel</c> (a key of the
/// training label's key type, with its <c>KeyValues</c>) from one forward pass per row, and optionally a
/// token-mask column. <see cref="Transform"/> scores in mini-batches of <see cref="BatchSize"/>; a prediction
/// engine scores one row at a time. It saves itself into ML.NET model zips (<c>MLContext.Model.Save</c>) and
/// loads from them without any call of this library's code. The transformer can be shared between threads;
/// a prediction engine cannot (one per thread).
/// </summary>
public sealed class VisionTransformerClassifier : RowToRowTransformerBase, ITransformer, IDisposable
{
    internal const string LoaderSignature = "TokenIdleViTClassifier";
    internal const string UserName = "Token-reduction ViT image classifier";
    private const string ModelSignature = "TIDLEVIT";
    // 0x00010002 added the half-precision flag; 0x00010003 stores the class values in a length-checked layout of
    // our own instead of ML.NET's codec; 0x00010004 the precision byte; 0x00010005 token merging's schedule. Older zips
    // predate any release and are refused as older.
    private const uint FormatVersion = 0x00010005;

    // The format before token merging's schedule (its zips hold none); still read.
    private const uint PrecisionByteFormatVersion = 0x00010004;

    // The format before the precision byte (a half-precision flag in its place); still read.
    private const uint HalfPrecisionFlagFormatVersion = 0x00010003;
    private const string ConfigStream = "config.json";
    private const string WeightsStream = "TSModel.safetensors";
    private const string RecipeStream = "trainer.json";
    private const string PredictorPrefix = "life_predictor.";

    // config.json and trainer.json are a few kilobytes; larger entries are not ours.
    private const int MaxJsonEntryBytes = 1 << 20;

    private readonly LabelKeyValues _labels;

    // The float32 weights (safetensors bytes) of a model that runs in another precision: what the zip stores.
    private byte[]? _float32Weights;
    private bool _disposed;

    // False for a classifier made by WithTokenReduction: the network belongs to the classifier it came from.
    private readonly bool _ownsModel = true;

    // False when WithTokenReduction was given a trained life predictor: it stays the caller's.
    private readonly bool _ownsPredictor = true;

    internal VisionTransformerClassifier(IHostEnvironment env, VisionTransformer model, IReducedForward? reduction, string method, double keepRatio, LabelKeyValues labels,
        string imageColumnName, string scoreColumnName, string predictedLabelColumnName, int batchSize, string? tokenMaskColumnName, TrainerRecipe? recipe, Precision precision)
        : this(env, model, reduction, method, keepRatio, labels, imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize, tokenMaskColumnName, recipe)
        => SetPrecision(precision);

    // A classifier over another's network: it runs in that one's precision and keeps its float32 weights.
    private VisionTransformerClassifier(VisionTransformerClassifier source, IReducedForward? reduction, string method, double keepRatio, bool ownsPredictor)
        : this(source.Host, source.Model, reduction, method, keepRatio, source._labels, source.ImageColumnName, source.ScoreColumnName, source.PredictedLabelColumnName,
            source.BatchSize, source.TokenMaskColumnName, source.Recipe)
        => (_ownsModel, _ownsPredictor, _float32Weights, Precision) = (false, ownsPredictor, source._float32Weights, source.Precision);

    private VisionTransformerClassifier(IHostEnvironment env, VisionTransformer model, IReducedForward? reduction, string method, double keepRatio, LabelKeyValues labels,
        string imageColumnName, string scoreColumnName, string predictedLabelColumnName, int batchSize, string? tokenMaskColumnName, TrainerRecipe? recipe)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(VisionTransformerClassifier)))
    {
        Recipe = recipe;
        (Model, Reduction, Method, KeepRatio, _labels) = (model, reduction, method, keepRatio, labels);
        (ImageColumnName, ScoreColumnName, PredictedLabelColumnName, BatchSize) = (imageColumnName, scoreColumnName, predictedLabelColumnName, batchSize);
        TokenMaskColumnName = reduction is null ? null : tokenMaskColumnName;
        ReducingLayers = reduction?.Plan(model.Config).Select((counts, layer) => (counts, layer)).Where(c => c.counts.Reducing).Select(c => c.layer).ToArray() ?? Array.Empty<int>();
    }

    /// <summary>The network.</summary>
    public VisionTransformer Model { get; }

    /// <summary>The token-reduction method, or null for the full model.</summary>
    public IReducedForward? Reduction { get; }

    /// <summary>The method's name (full, evit, evit-fuse, idle, life, tome).</summary>
    public string Method { get; }

    /// <summary>The base keep ratio (1 for the full model and token merging).</summary>
    public double KeepRatio { get; }

    /// <summary>The older spelling of <see cref="KeepRatio"/>.</summary>
    [Obsolete("Use KeepRatio.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public double KeepRate => KeepRatio;

    /// <summary>The class names, in key order (key i + 1 is class i): the training label's values as text.</summary>
    public IReadOnlyList<string> ClassNames => _labels.Names;

    /// <summary>The image column read.</summary>
    public string ImageColumnName { get; }

    /// <summary>The probabilities column written.</summary>
    public string ScoreColumnName { get; }

    /// <summary>The predicted-key column written.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>Images per forward pass in <see cref="Transform"/>.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// The optional diagnostic column, [layers, patches], per reducing layer (<see cref="ReducingLayers"/>) and patch:
    /// 1 where the layer kept (or processed) the patch and 0 where it was dropped or idle; for token merging, the number
    /// of patches in the token that holds the patch after the layer (1: not merged yet). Null: not added.
    /// </summary>
    public string? TokenMaskColumnName { get; }

    /// <summary>
    /// The number format the network computes in (inputs and probabilities stay float32); the zip keeps float32
    /// weights whatever it is.
    /// </summary>
    public Precision Precision { get; private set; }

    /// <summary>
    /// Changes the number format the network runs in — say bfloat16 for a model saved in float32, on a CPU with AMX —
    /// starting from its float32 weights (never from another reduced format, which would round twice); a zip saved
    /// afterwards records it. Call it before scoring, not while this classifier scores.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a <see cref="Precision"/> value.</exception>
    public void SetPrecision(Precision precision)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Enum.IsDefined(precision))
        {
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "precision must be Float32, BFloat16 or Float16");
        }

        if (_float32Weights is { } stored && precision != Precision)
        {
            Model.to(ScalarType.Float32);
            Reduction?.PlaceWith(Model);
            LoadWeights(stored);
        }

        _float32Weights = precision == Precision.Float32 ? null : _float32Weights ?? WeightsBytes(Model, Reduction);
        Model.to(precision.ScalarType());
        Reduction?.PlaceWith(Model);
        Precision = precision;
    }

    /// <summary>Whether the network computes in float16 (<see cref="Precision.Float16"/>).</summary>
    public bool HalfPrecision => Precision == Precision.Float16;

    /// <summary>
    /// Writes the network and its token reduction as an ONNX model (opset 17 or later): float32 pixels
    /// <c>[batch, channels, size, size]</c> to logits (and, by default, probabilities), the batch axis dynamic and
    /// every token count fixed by the schedule. ONNX Runtime, or ML.NET's <c>ApplyOnnxModel</c>, then scores it without
    /// this library; images must be resized outside the graph. The class names, method, schedule and normalisation
    /// are stored as the model's metadata.
    /// </summary>
    /// <param name="output">Where the model is written; nothing is written when the export fails.</param>
    /// <param name="options">Names, opset and what the input holds; null: the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void ExportToOnnx(Stream output, Onnx.OnnxExportOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Host.CheckValue(output, nameof(output));
        Onnx.VisionTransformerOnnxExporter.Export(Model, Reduction, Method, ClassNames, output, options ?? new Onnx.OnnxExportOptions());
    }

    /// <summary>
    /// The same network scored with another token reduction, without training: token merging (ToMe) on any classifier,
    /// or the training-free forms of EViT, IdleViT and life regression (an untrained predictor unless one is given); null
    /// scores the full model. The result shares this classifier's weights and precision (dispose this one last: the
    /// result does not free the network, nor a life predictor given in the options) and saves into a zip that records
    /// its reduction; a token-mask column is kept.
    /// </summary>
    /// <param name="reduction">The method's settings, e.g. <c>new TokenMergingOptions { MergedPerLayer = 13 }</c>; its
    /// setting left to the context's default take the scoring one (ToMe: proportional attention on).</param>
    /// <exception cref="ArgumentException">The settings do not fit this network (the message names the value).</exception>
    public VisionTransformerClassifier WithTokenReduction(IReductionMethodOptions? reduction)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (reduction is null)
        {
            return new VisionTransformerClassifier(this, null, TokenReductionMethods.Names[(int)TokenReductionMethod.Full], 1, ownsPredictor: true);
        }

        var forward = reduction.CreateForward(Model.Config, training: false);
        forward.PlaceWith(Model);
        return new VisionTransformerClassifier(this, forward, reduction.Name, (reduction as TokenReductionOptions)?.KeepRatio ?? 1,
            ownsPredictor: reduction is not LifeRegressionOptions { Predictor: not null });
    }

    /// <summary>The blocks that reduce tokens, in order (the rows of the token-mask column).</summary>
    public IReadOnlyList<int> ReducingLayers { get; }

    /// <summary>How the model was trained (null for a model saved without it).</summary>
    internal TrainerRecipe? Recipe { get; }

    /// <summary>Scores <paramref name="input"/> lazily, in mini-batches of <see cref="BatchSize"/> images.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or of another type (ML.NET's schema message).</exception>
    public new IDataView Transform(IDataView input)
    {
        Host.CheckValue(input, nameof(input));
        return new BatchScoringDataView(Host, input, new Mapper(this, input.Schema));
    }

    /// <summary>
    /// Frees the network's and the life predictor's native memory now (device memory on CUDA) instead of at
    /// finalisation; the classifier cannot score or save afterwards. A service that loads and unloads models calls it
    /// (or disposes the <c>TransformerChain</c> that holds it).
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsPredictor)
        {
            Reduction?.Predictor?.Dispose();
        }

        if (_ownsModel)
        {
            Model.Dispose();
        }
    }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());

        // *** Binary format ***
        // string: image column; string: score column; string: predicted-label column; string or null: token-mask column
        // int: scoring batch size
        // string: method (full, evit, evit-fuse, idle, life); double: base keep rate
        // int: schedule length L (0: full model), then L doubles (keep ratio per layer)
        // int: life predictor layer (-1: not life regression); double: steepness
        // byte: scoring precision: 0 float32, 1 float16, 2 bfloat16 (format 0x00010003: 1 half precision, 0 float32)
        // int: token merging's layers M (0: not token merging), then M ints (pairs merged per layer); byte: proportional
        //   attention (1 on) (format 0x00010005 on)
        // string: SHA-256 of the weights stream, hex
        // the label's values: byte item kind (1 text, 2 bool, 3-12 sbyte … double, 13 DateTime, 14 DateTimeOffset, 15 TimeSpan;
        //   16 key, then its raw type's kind byte and ulong key count), int count (= num_classes), then the values:
        //   text as int character count + UTF-16; bool and numbers little-endian; DateTime as ToBinary int64;
        //   DateTimeOffset as int64 ticks + int16 offset minutes; TimeSpan as int64 ticks
        // streams: config.json (architecture, timm names, with mean/std), TSModel.safetensors (weights, timm names),
        //          trainer.json (optional: the trainer and its options)
        ctx.SaveNonEmptyString(ImageColumnName);
        ctx.SaveNonEmptyString(ScoreColumnName);
        ctx.SaveNonEmptyString(PredictedLabelColumnName);
        ctx.SaveStringOrNull(TokenMaskColumnName);
        ctx.Writer.Write(BatchSize);
        ctx.SaveNonEmptyString(Method);
        ctx.Writer.Write(KeepRatio);
        var strategy = Reduction as TokenReductionStrategy;
        var ratios = strategy?.Schedule.Ratios ?? Array.Empty<double>();
        ctx.Writer.Write(ratios.Count);
        foreach (var ratio in ratios)
        {
            ctx.Writer.Write(ratio);
        }

        var life = strategy?.Selector as LifeRegressionSelector;
        ctx.Writer.Write(life?.PredictorLayer ?? -1);
        ctx.Writer.Write(life?.Steepness ?? 0);
        ctx.Writer.Write((byte)(Precision switch { Precision.Float16 => 1, Precision.BFloat16 => 2, _ => 0 }));
        var merging = Reduction as TokenMergingForward;
        var merges = merging?.Schedule.PerLayer ?? Array.Empty<int>();
        ctx.Writer.Write(merges.Count);
        foreach (var r in merges)
        {
            ctx.Writer.Write(r);
        }

        ctx.Writer.Write((byte)(merging?.ProportionalAttention == true ? 1 : 0));

        var weights = _float32Weights ?? WeightsBytes(Model, Reduction);
        ctx.SaveNonEmptyString(Convert.ToHexString(SHA256.HashData(weights)));
        _labels.Save(ctx);
        ctx.SaveBinaryStream(ConfigStream, writer => writer.Write(JsonSerializer.SerializeToUtf8Bytes(Model.Config)));
        ctx.SaveBinaryStream(WeightsStream, writer => writer.Write(weights));
        if (Recipe is not null)
        {
            ctx.SaveBinaryStream(RecipeStream, writer => writer.Write(JsonSerializer.SerializeToUtf8Bytes(Recipe)));
        }
    }

    /// <summary>The network's and the life predictor's weights as safetensors bytes, in float32 whatever they run in.</summary>
    private static byte[] WeightsBytes(VisionTransformer model, IReducedForward? reduction)
    {
        using var scope = NewDisposeScope();
        var tensors = model.NamedParameters().Concat(reduction?.Predictor?.NamedParameters(PredictorPrefix) ?? Enumerable.Empty<KeyValuePair<string, Tensor>>())
            .Select(kv => kv.Value.dtype == ScalarType.Float32 ? kv : new KeyValuePair<string, Tensor>(kv.Key, kv.Value.to_type(ScalarType.Float32)));
        using var weights = new MemoryStream();
        SafetensorsFile.Write(weights, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return weights.ToArray();
    }

    /// <summary>Puts the weights of <see cref="WeightsBytes"/> back into the network and the life predictor.</summary>
    private void LoadWeights(byte[] weights)
    {
        using var scope = NewDisposeScope();
        var (network, predictor) = SplitPredictor(SafetensorsFile.Parse(weights, "the float32 weights"));
        Model.LoadStateDict(network.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()));
        Reduction?.Predictor?.LoadStateDict(predictor.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()));
    }

    /// <summary>The network's entries, and the life predictor's under their own names.</summary>
    private static (Dictionary<string, SafetensorsEntry> Network, Dictionary<string, SafetensorsEntry> Predictor) SplitPredictor(IReadOnlyDictionary<string, SafetensorsEntry> entries)
        => (entries.Where(kv => !kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value),
            entries.Where(kv => kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[PredictorPrefix.Length..], kv => kv.Value));

    private static VersionInfo GetVersionInfo()
        => new(ModelSignature, verWrittenCur: FormatVersion, verReadableCur: FormatVersion, verWeCanReadBack: HalfPrecisionFlagFormatVersion,
            loaderAssemblyName: typeof(VisionTransformerClassifier).Assembly.FullName, loaderSignature: LoaderSignature);

    // Factory for SignatureLoadModel: ML.NET calls it by reflection when a zip holding this transformer is loaded.
    private static VisionTransformerClassifier Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        try
        {
            return Load(env, ctx);
        }
        catch (EndOfStreamException e)
        {
            throw Contracts.ExceptDecode(e, $"'{ctx.Directory}': the model's data ends early: the zip was altered or damaged");
        }
    }

    private static VisionTransformerClassifier Load(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        MLNetVersionCheck.Ensure();
        var host = env.Register(nameof(VisionTransformerClassifier));
        CheckVersion(host, ctx);
        ctx.CheckAtModel(GetVersionInfo());
        var image = ctx.LoadNonEmptyString();
        var score = ctx.LoadNonEmptyString();
        var predicted = ctx.LoadNonEmptyString();
        var mask = ctx.LoadStringOrNull();
        var batchSize = ctx.Reader.ReadInt32();
        var methodName = ctx.LoadNonEmptyString();
        var keepRate = ctx.Reader.ReadDouble();
        var count = ctx.Reader.ReadInt32();
        host.CheckDecode(batchSize >= 1 && count is >= 0 and <= 10_000, $"'{ctx.Directory}': the stored batch size {batchSize} or schedule length {count} is invalid");
        var ratios = Enumerable.Range(0, count).Select(_ => ctx.Reader.ReadDouble()).ToArray();
        var predictorLayer = ctx.Reader.ReadInt32();
        var steepness = ctx.Reader.ReadDouble();
        var precision = ctx.Header.ModelVerWritten <= HalfPrecisionFlagFormatVersion
            ? (ctx.Reader.ReadBoolByte() ? Precision.Float16 : Precision.Float32)
            : ctx.Reader.ReadByte() switch
            {
                0 => Precision.Float32,
                1 => Precision.Float16,
                2 => Precision.BFloat16,
                var other => throw host.ExceptDecode($"'{ctx.Directory}': the stored precision {other} is not 0 (float32), 1 (float16) or 2 (bfloat16)"),
            };
        var merges = Array.Empty<int>();
        var proportionalAttention = false;
        if (ctx.Header.ModelVerWritten > PrecisionByteFormatVersion)
        {
            var layers = ctx.Reader.ReadInt32();
            host.CheckDecode(layers is >= 0 and <= 10_000, $"'{ctx.Directory}': the stored merge schedule length {layers} is invalid");
            merges = Enumerable.Range(0, layers).Select(_ => ctx.Reader.ReadInt32()).ToArray();
            proportionalAttention = ctx.Reader.ReadBoolByte();
        }

        var checksum = ctx.LoadNonEmptyString();
        var config = ParseConfig(host, ctx, Stream(host, ctx, ConfigStream, MaxJsonEntryBytes));
        var labels = LabelKeyValues.Load(host, ctx, config.NumClasses, ConfigStream);
        var weightsSource = $"{ctx.Directory}/{WeightsStream}";
        var weights = Stream(host, ctx, WeightsStream, WeightsEntryLimit(config));
        if (!Convert.ToHexString(SHA256.HashData(weights)).Equals(checksum, StringComparison.OrdinalIgnoreCase))
        {
            throw host.ExceptDecode($"'{weightsSource}' does not match the checksum saved with the model: the zip was altered or damaged");
        }

        var entries = SafetensorsFile.Parse(weights, weightsSource);
        var (network, predictorEntries) = SplitPredictor(entries);
        var model = VisionTransformer.FromWeights(config, network, weightsSource);
        model.eval();
        using var scope = NewDisposeScope();
        var state = predictorEntries.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());

        IReducedForward? reduction;
        try
        {
            reduction = methodName == TokenMergingOptions.MethodName
                ? new TokenMergingOptions { Schedule = merges, ProportionalAttention = proportionalAttention }.CreateForward(config, training: false)
                : KeepRatioMethod(methodName, config, keepRate, count > 0 ? ratios : null, state, weightsSource, predictorLayer, steepness);
        }
        catch (ArgumentException e)
        {
            throw host.ExceptDecode(e, $"'{ctx.Directory}': the stored token-reduction method is invalid: {e.Message}");
        }

        TrainerRecipe? recipe = null;
        ctx.TryLoadBinaryStream(RecipeStream, reader => recipe = ParseRecipe(host, ctx, reader));

        using (var channel = host.Start("Loading"))
        {
            if ((ModuleWeights.NonFinite(model) ?? ModuleWeights.NonFinite(state)) is { } bad)
            {
                channel.Warning($"'{weightsSource}': {bad}; the model's scores will be NaN");
            }

            var device = DeviceSelection.Select(env, channel, null);
            model.to(device);
            reduction?.PlaceWith(model);
        }

        return new VisionTransformerClassifier(env, model, reduction, methodName, keepRate, labels, image, score, predicted, batchSize, mask, recipe, precision);
    }

    /// <summary>A stored keep-ratio method (null for the full model); life regression's predictor comes from <paramref name="predictorState"/>.</summary>
    private static TokenReductionStrategy? KeepRatioMethod(string name, VisionTransformerConfig config, double keepRate, double[]? ratios,
        Dictionary<string, Tensor> predictorState, string weightsSource, int predictorLayer, double steepness)
    {
        var method = TokenReductionMethods.Parse(name);
        LifePredictor? predictor = null;
        if (method == TokenReductionMethod.Life)
        {
            predictor = new LifePredictor(config.EmbedDim, (float)config.LayerNormEps);
            predictor.LoadStateDict(predictorState, weightsSource);
        }

        var options = TokenReductionMethods.Options(method, keepRate, ratios, predictor);
        if (options is LifeRegressionOptions life)
        {
            (life.PredictorLayer, life.Steepness) = (predictorLayer, steepness);
        }

        return options?.CreateStrategy(config);
    }

    // Factory for SignatureLoadRowMapper.
    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    /// <summary>Refuses another component's entry or another format version with a message that says which.</summary>
    private static void CheckVersion(IHost host, ModelLoadContext ctx)
    {
        var header = ctx.Header;
        var ours = GetVersionInfo();
        if (header.ModelSignature != ours.ModelSignature)
        {
            throw host.ExceptDecode($"'{ctx.Directory}' is not a {UserName} (its model signature differs)");
        }

        if (header.ModelVerReadable > ours.VerWrittenCur)
        {
            throw host.ExceptDecode($"'{ctx.Directory}' was saved by a newer Microsoft.ML.TokenIdle (format 0x{header.ModelVerWritten:X8}, readable by 0x{header.ModelVerReadable:X8}); this version reads format 0x{ours.VerWrittenCur:X8}: update the library");
        }

        if (header.ModelVerWritten < ours.VerWeCanReadBack)
        {
            throw host.ExceptDecode($"'{ctx.Directory}' was saved in format 0x{header.ModelVerWritten:X8}, older than this library reads (0x{ours.VerWeCanReadBack:X8} on)");
        }
    }

    /// <summary>An entry's bytes, read in chunks and refused once past <paramref name="maxBytes"/> (a zip entry can declare any size).</summary>
    private static byte[] Stream(IHost host, ModelLoadContext ctx, string name, long maxBytes)
    {
        byte[]? bytes = null;
        if (!ctx.TryLoadBinaryStream(name, reader =>
        {
            using var copy = new MemoryStream();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = reader.BaseStream.Read(buffer)) > 0)
            {
                if (copy.Length + read > maxBytes)
                {
                    throw host.ExceptDecode($"'{ctx.Directory}/{name}' is longer than the {maxBytes:N0} bytes this model can need: the zip was altered or damaged");
                }

                copy.Write(buffer, 0, read);
            }

            bytes = copy.ToArray();
        }))
        {
            throw host.ExceptDecode($"'{ctx.Directory}' has no '{name}' entry: the zip is incomplete");
        }

        return bytes!;
    }

    /// <summary>The most bytes the weights of <paramref name="config"/> (and a life predictor) can take as float32 safetensors.</summary>
    private static long WeightsEntryLimit(VisionTransformerConfig config)
    {
        long e = config.EmbedDim;
        var tensors = config.ParameterShapes().Count() + 3;
        return 4 * (config.ParameterCount() + e * e + 2 * e) + 8 + 4096 + 512L * tensors;
    }

    private static VisionTransformerConfig ParseConfig(IHost host, ModelLoadContext ctx, byte[] bytes)
    {
        try
        {
            return VisionTransformerConfig.Parse(bytes, $"{ctx.Directory}/{ConfigStream}");
        }
        catch (InvalidDataException e)
        {
            throw host.ExceptDecode(e, e.Message);
        }
    }

    private static TrainerRecipe ParseRecipe(IHost host, ModelLoadContext ctx, BinaryReader reader)
    {
        try
        {
            var json = new byte[MaxJsonEntryBytes + 1];
            var length = reader.BaseStream.ReadAtLeast(json, json.Length, throwOnEndOfStream: false);
            host.CheckDecode(length <= MaxJsonEntryBytes, $"'{ctx.Directory}/{RecipeStream}' is longer than {MaxJsonEntryBytes:N0} bytes");
            return JsonSerializer.Deserialize<TrainerRecipe>(json.AsSpan(0, length)) ?? throw new JsonException("the document is empty");
        }
        catch (JsonException e)
        {
            throw host.ExceptDecode(e, $"'{ctx.Directory}/{RecipeStream}': {e.Message}");
        }
    }

    /// <summary>Class probabilities of a batch of inputs, row-major [n, classes], and with <paramref name="masks"/> their token masks [n, layers × patches].</summary>
    internal ScoredBatch Score(ModelInputList inputs, bool masks)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var classes = ClassNames.Count;
        var probabilities = new float[inputs.Count * classes];
        var trace = masks && Reduction is not null ? new TokenReductionTrace() : null;
        if (inputs.FirstNonFinite() is var bad and >= 0)
        {
            using var channel = Host.Start("Scoring");
            channel.Warning($"input {bad} of a batch of {inputs.Count} in '{ImageColumnName}' holds NaN or infinite values; its scores will be NaN");
        }

        Model.EnsureScoringFits(inputs.Count, Reduction, "the batch size (BatchSize)");

        using (NewDisposeScope())
        using (no_grad())
        {
            var batch = inputs.ToBatch(Model.Config).ToTensor(Model.Device);
            Model.Forward(batch, Reduction, trace).softmax(-1).cpu().data<float>().CopyTo(probabilities);
        }

        var patches = Model.Config.NumPatches;
        var maskSize = ReducingLayers.Count * patches;
        float[]? mask = null;
        if (trace is not null)
        {
            mask = new float[inputs.Count * maskSize];
            for (var l = 0; l < trace.Records.Count; l++)
            {
                var record = trace.Records[l];
                for (var b = 0; b < inputs.Count; b++)
                {
                    var row = mask.AsSpan(b * maskSize + l * patches, patches);
                    if (record.Merges)
                    {
                        record.MergedSizes(b, patches).Select(size => (float)size).ToArray().CopyTo(row);
                        continue;
                    }

                    foreach (var source in record.KeptSources.AsSpan(b * record.KeptPerImage, record.KeptPerImage))
                    {
                        if (source >= 0)
                        {
                            row[source] = 1;
                        }
                    }
                }
            }
        }

        return new ScoredBatch(probabilities, classes, mask, maskSize);
    }

    /// <summary>The added columns and their getters for one input schema.</summary>
    internal sealed class Mapper : MapperBase
    {
        private readonly VisionTransformerClassifier _owner;

        public Mapper(VisionTransformerClassifier parent, DataViewSchema schema)
            : base(parent.Host.Register(nameof(Mapper)), schema, parent)
        {
            _owner = parent;
            Image = ImageColumn.Check(Host, schema, parent.ImageColumnName, parent.Model.Config);
            Describing = ImageColumn.DescribingColumns(schema);
        }

        /// <summary>The image column read.</summary>
        public DataViewSchema.Column Image { get; }

        /// <summary>The text columns that name a row in errors.</summary>
        public DataViewSchema.Column[] Describing { get; }

        /// <summary>The transformer.</summary>
        public VisionTransformerClassifier Parent => _owner;

        /// <summary>The added columns (Score, PredictedLabel and, when asked for, the token mask).</summary>
        public int Count => OutputColumns.Value.Length;

        /// <summary>Whether the token-mask column is read.</summary>
        public bool MasksActive(Func<int, bool> activeOutput) => Count > 2 && activeOutput(2);

        /// <summary>The input columns scoring reads.</summary>
        public IEnumerable<DataViewSchema.Column> Dependencies => Describing.Append(Image);

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
        {
            var parent = _owner;
            var classes = parent.ClassNames.Count;
            var names = parent.ClassNames.Select(n => n.AsMemory()).ToArray();
            var setId = InputSchema.GetMaxAnnotationKind(out _, AnnotationUtils.Kinds.ScoreColumnSetId) + 1;
            var score = new DataViewSchema.Annotations.Builder();
            score.AddSlotNames(classes, (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(classes, names));
            AddText(score, AnnotationUtils.Kinds.ScoreColumnKind, AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification);
            AddText(score, AnnotationUtils.Kinds.ScoreValueKind, AnnotationUtils.Const.ScoreValueKind.Score);
            score.Add(AnnotationUtils.Kinds.ScoreColumnSetId, AnnotationUtils.ScoreColumnSetIdType, (ref uint value) => value = setId);
            parent._labels.AddTo(score, AnnotationUtils.Kinds.TrainingLabelValues);
            var predicted = new DataViewSchema.Annotations.Builder();
            parent._labels.AddTo(predicted, AnnotationUtils.Kinds.KeyValues);
            AddText(predicted, AnnotationUtils.Kinds.ScoreColumnKind, AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification);
            AddText(predicted, AnnotationUtils.Kinds.ScoreValueKind, AnnotationUtils.Const.ScoreValueKind.PredictedLabel);
            predicted.Add(AnnotationUtils.Kinds.ScoreColumnSetId, AnnotationUtils.ScoreColumnSetIdType, (ref uint value) => value = setId);
            var columns = new List<DataViewSchema.DetachedColumn>
            {
                new(parent.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations()),
                new(parent.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), classes), predicted.ToAnnotations()),
            };
            if (parent.TokenMaskColumnName is { } maskName)
            {
                var patches = parent.Model.Config.NumPatches;
                var slots = parent.ReducingLayers.SelectMany(l => Enumerable.Range(0, patches).Select(p => FormattableString.Invariant($"layer{l}.patch{p}").AsMemory())).ToArray();
                var mask = new DataViewSchema.Annotations.Builder();
                mask.AddSlotNames(slots.Length, (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(slots.Length, slots));
                columns.Add(new(maskName, new VectorDataViewType(NumberDataViewType.Single, parent.ReducingLayers.Count, patches), mask.ToAnnotations()));
            }

            return columns.ToArray();
        }

        /// <summary>Single-row getters: each row is a batch of one, scored once however many of the added columns are read.</summary>
        public override Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            if (!Enumerable.Range(0, Count).Any(activeOutput))
            {
                return new Delegate[Count];
            }

            var reader = new ImageColumnReader(input, Image, _owner.Model.Config);
            disposer = reader.Dispose;
            var masks = MasksActive(activeOutput);
            var cached = long.MinValue;
            ScoredBatch scored = null!;
            ScoredBatch Current()
            {
                if (cached != input.Position || input.Position < 0)
                {
                    var inputs = new ModelInputList();
                    reader.ReadInto(inputs);
                    scored = _owner.Score(inputs, masks);
                    cached = input.Position;
                }

                return scored;
            }

            return Getters(() => (Current(), 0), activeOutput);
        }

        /// <summary>The getters of the added columns over a source of the current row (its batch and index in it).</summary>
        public Delegate[] Getters(Func<(ScoredBatch Batch, int Row)> current, Func<int, bool> activeOutput)
        {
            var classes = _owner.ClassNames.Count;
            ValueGetter<VBuffer<float>> score = (ref VBuffer<float> value) =>
            {
                var (batch, row) = current();
                var editor = VBufferEditor.Create(ref value, classes);
                batch.Probabilities(row).Span.CopyTo(editor.Values);
                value = editor.Commit();
            };
            ValueGetter<uint> predicted = (ref uint value) =>
            {
                var (batch, row) = current();
                value = (uint)System.Numerics.Tensors.TensorPrimitives.IndexOfMax(batch.Probabilities(row).Span) + 1;
            };
            ValueGetter<VBuffer<float>> mask = (ref VBuffer<float> value) =>
            {
                var (batch, row) = current();
                var values = batch.Mask(row);
                var editor = VBufferEditor.Create(ref value, values.Length);
                values.Span.CopyTo(editor.Values);
                value = editor.Commit();
            };
            var getters = new Delegate[Count];
            getters[0] = activeOutput(0) ? score : null!;
            getters[1] = activeOutput(1) ? predicted : null!;
            if (Count > 2)
            {
                getters[2] = activeOutput(2) ? mask : null!;
            }

            return getters;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
            => throw new NotSupportedException("the classifier's getters are made together (CreateGetters), so that one forward pass feeds them all");

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            var needed = Enumerable.Range(0, Count).Any(activeOutput) ? Dependencies.Select(c => c.Index).ToHashSet() : new HashSet<int>();
            return needed.Contains;
        }

        protected override void SaveModel(ModelSaveContext ctx) => _owner.SaveModel(ctx);

        private static void AddText(DataViewSchema.Annotations.Builder builder, string kind, string text)
            => builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = text.AsMemory());
    }

    /// <summary>One forward pass's outputs: probabilities [n, classes] and, when asked for, token masks [n, layers × patches].</summary>
    internal sealed record ScoredBatch(float[] AllProbabilities, int Classes, float[]? AllMasks, int MaskSize)
    {
        public ReadOnlyMemory<float> Probabilities(int row) => AllProbabilities.AsMemory(row * Classes, Classes);

        public ReadOnlyMemory<float> Mask(int row) => AllMasks?.AsMemory(row * MaskSize, MaskSize) ?? throw new InvalidOperationException("the batch was scored without token masks");
    }
}
