using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using TorchSharp.Modules;
using Microsoft.ML.TokenIdle.Serialization;
using static Microsoft.ML.TokenIdle.Serialization.OnnxGraph;

namespace Microsoft.ML.TokenIdle.Onnx;

/// <summary>
/// Writes a <see cref="VisionTransformer"/> and its token-reduction method as one ONNX graph, pixels to logits:
/// the same operations as the TorchSharp forward pass in eval mode, with every token count fixed by the image
/// size and the schedule, and only the batch axis dynamic. Tokens are chosen in the graph (TopK), gathered
/// (Gather of whole rows), fused and merged (MatMul) and, for idling, written back (ScatterND).
/// </summary>
public sealed class VisionTransformerOnnxExporter : IOnnxNetworkWriter
{
    /// <summary>The highest opset this exporter has been checked against (ONNX Runtime 1.31 reads it).</summary>
    public const int MaximumOpset = 21;

    /// <summary>The largest int8 weight magnitude of <see cref="OnnxQuantization.DynamicInt8"/> (7 bits).</summary>
    public const int QuantizedWeightLimit = 63;

    private readonly OnnxGraph _g = new();
    private readonly Dictionary<string, (string Weight, string Scales, string Zeros)> _quantized = new(StringComparer.Ordinal);
    private readonly VisionTransformer _model;
    private readonly IReducedForward? _reduction;
    private readonly OnnxExportOptions _options;
    private readonly long _width;
    private readonly long _heads;

    private VisionTransformerOnnxExporter(VisionTransformer model, IReducedForward? reduction, OnnxExportOptions options)
    {
        (_model, _reduction, _options) = (model, reduction, options);
        (_width, _heads) = (model.Config.EmbedDim, model.Config.NumHeads);
    }

    /// <summary>
    /// Writes the ONNX model of <paramref name="model"/> under <paramref name="reduction"/> (null: the full model),
    /// with the method, schedule, normalisation and class names as the model's metadata. Trained ML.NET models
    /// export through <see cref="VisionTransformerClassifier.ExportToOnnx"/>.
    /// </summary>
    /// <param name="model">The network; its weights are written as float32 whatever its precision and device.</param>
    /// <param name="reduction">The token reduction to write into the graph; null for the full model.</param>
    /// <param name="method">The method's name, for the metadata (e.g. <c>idle</c>).</param>
    /// <param name="classNames">The class names for the metadata, or null.</param>
    /// <param name="output">Where the model is written; nothing is written when the export fails.</param>
    /// <param name="options">Names, opset and what the input holds.</param>
    /// <exception cref="ArgumentException">The options are invalid, or the method has no graph form (a selector and a reduction no method pairs).</exception>
    public static void Export(VisionTransformer model, IReducedForward? reduction, string method, IReadOnlyList<string>? classNames, Stream output, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Opset is < OnnxExportOptions.MinimumOpset or > MaximumOpset)
        {
            throw new ArgumentException($"ONNX export: opset {options.Opset} is not supported: choose {OnnxExportOptions.MinimumOpset} to {MaximumOpset}", nameof(options));
        }

        var names = new[] { options.InputName, options.LogitsName, options.ProbabilitiesName };
        if (names.Any(n => n is not null && string.IsNullOrWhiteSpace(n)) || names.Where(n => n is not null).Distinct(StringComparer.Ordinal).Count() != names.Count(n => n is not null))
        {
            throw new ArgumentException($"ONNX export: the input and output names must be distinct and not blank, got '{string.Join("', '", names)}'", nameof(options));
        }

        var exporter = new VisionTransformerOnnxExporter(model, reduction, options);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var version = typeof(VisionTransformerOnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        var (mean, std) = model.Config.InputNormalization();
        var metadata = new Dictionary<string, string>
        {
            ["method"] = method,
            ["keep_ratio_per_layer"] = string.Join(',', ((reduction as TokenReductionStrategy)?.Schedule.Ratios ?? Enumerable.Repeat(1.0, model.Config.Depth)).Select(r => r.ToString("R", CultureInfo.InvariantCulture))),
            ["image_size"] = model.Config.ImageSize.ToString(CultureInfo.InvariantCulture),
            ["input_pixels"] = options.InputPixels.ToString(),
            ["quantization"] = options.Quantization switch
            {
                OnnxQuantization.None => "none",
                OnnxQuantization.DynamicInt8 => $"dynamic_int8: qkv, proj, fc1, fc2, head as int8 weights (symmetric per output channel, |q| <= {QuantizedWeightLimit}) x uint8 activations (per tensor, at run time); the rest float32",
                var other => throw new ArgumentException($"ONNX export: unknown quantization {other}", nameof(options)),
            },
            ["mean"] = JsonSerializer.Serialize(mean),
            ["std"] = JsonSerializer.Serialize(std),
        };
        if (reduction is TokenMergingForward merging)
        {
            metadata["merged_per_layer"] = string.Join(',', merging.Schedule.PerLayer.Select(r => r.ToString(CultureInfo.InvariantCulture)));
            metadata["proportional_attention"] = merging.ProportionalAttention ? "true" : "false";
        }

        if (classNames is not null)
        {
            metadata["class_names"] = JsonSerializer.Serialize(classNames);
        }

        // Built whole before anything is written: a failed export leaves the stream untouched.
        var onnx = exporter.Build().ToModel(options.Opset, version, metadata);
        onnx.WriteTo(output);
    }

    /// <inheritdoc/>
    OnnxGraph IOnnxNetworkWriter.Graph => _g;

    /// <inheritdoc/>
    long IOnnxNetworkWriter.Width => _width;

    /// <inheritdoc/>
    string IOnnxNetworkWriter.LayerNorm(string x, LayerNorm norm, string prefix) => LayerNorm(x, norm, prefix);

    /// <inheritdoc/>
    string IOnnxNetworkWriter.Linear(string x, Linear linear, string prefix, bool quantizable) => Linear(x, linear, prefix, quantizable);

    /// <inheritdoc/>
    string IOnnxNetworkWriter.Attention(string normed, Attention attention, string prefix, long tokens) => Attention(normed, attention, prefix, tokens);

    /// <inheritdoc/>
    (string Output, string Keys) IOnnxNetworkWriter.AttentionWithKeys(string normed, Attention attention, string prefix, long tokens, string? keyBias)
        => AttentionWithKeys(normed, attention, prefix, tokens, keyBias);

    /// <inheritdoc/>
    string IOnnxNetworkWriter.MlpResidual(string x, Block block, string prefix) => MlpResidual(x, block, prefix);

    /// <inheritdoc/>
    string IOnnxNetworkWriter.Block(string x, Block block, string prefix, long tokens) => Block(x, block, prefix, tokens);

    private OnnxGraph Build()
    {
        var c = _model.Config;

        // Each method writes its own blocks, as each runs its own forward pass.
        var method = _reduction is null ? null : _reduction as IOnnxReducedForward ?? throw new ArgumentException($"ONNX export: the method {_reduction.GetType().Name} has no ONNX form");
        var input = _g.Input(_options.InputName, null, c.InChannels, c.ImageSize, c.ImageSize);
        var tokens = new OnnxTokens(Embed(Normalize(input, c)), 1 + c.NumPatches);
        if (method is null)
        {
            for (var layer = 0; layer < c.Depth; layer++)
            {
                tokens = tokens with { X = Block(tokens.X, _model.Blocks[layer], $"blocks.{layer}.", tokens.Count) };
            }
        }
        else
        {
            tokens = method.WriteBlocks(this, _model, tokens);
        }

        var classToken = _g.Op("Gather", new[] { tokens.X, _g.Int64(0) }, Int("axis", 1));
        var logits = Linear(LayerNorm(classToken, _model.Norm, "norm."), _model.Head, "head.");
        _g.Output(logits, _options.LogitsName, null, c.NumClasses);
        if (_options.ProbabilitiesName is { } probabilities)
        {
            _g.Output(_g.Op("Softmax", new[] { logits }, Int("axis", -1)), probabilities, null, c.NumClasses);
        }

        return _g;
    }

    /// <summary>Raw RGB planes to normalised pixels: x·scale/std − mean/std per channel, as one Mul and one Add.</summary>
    private string Normalize(string input, VisionTransformerConfig c)
    {
        var scale = _options.InputPixels switch
        {
            OnnxInputPixels.Normalized => 0f,
            OnnxInputPixels.Bytes => 1f / 255,
            OnnxInputPixels.UnitRange => 1f,
            var other => throw new ArgumentException($"ONNX export: unknown input pixels {other}"),
        };
        if (scale == 0)
        {
            return input;
        }

        var (mean, std) = c.InputNormalization();
        var factor = _g.Floats(std.Select(s => scale / s).ToArray(), 1, c.InChannels, 1, 1);
        var offset = _g.Floats(mean.Zip(std, (m, s) => -m / s).ToArray(), 1, c.InChannels, 1, 1);
        return _g.Op("Add", new[] { _g.Op("Mul", new[] { input, factor }), offset });
    }

    private string Embed(string pixels)
    {
        var proj = _model.PatchEmbed.Proj;
        var p = _model.Config.PatchSize;
        var conv = _g.Op("Conv", new[] { pixels, _g.Weight("patch_embed.proj.weight", proj.weight!), _g.Weight("patch_embed.proj.bias", proj.bias!) },
            Ints("kernel_shape", p, p), Ints("strides", p, p));
        var patches = _g.Op("Transpose", new[] { _g.Op("Reshape", new[] { conv, _g.Int64s(0, _width, -1) }) }, Ints("perm", 0, 2, 1));

        // The class token, repeated over the batch: shape [batch, 1, E] from the input's batch size.
        var batch = _g.Op("Slice", new[] { _g.Op("Shape", new[] { pixels }), _g.Int64s(0), _g.Int64s(1) });
        var classShape = _g.Op("Concat", new[] { batch, _g.Int64s(1, _width) }, Int("axis", 0));
        var classTokens = _g.Op("Expand", new[] { _g.Weight("cls_token", _model.ClsToken), classShape });
        return _g.Op("Add", new[] { _g.Op("Concat", new[] { classTokens, patches }, Int("axis", 1)), _g.Weight("pos_embed", _model.PosEmbed) });
    }

    private string Block(string x, Block block, string prefix, long tokens)
        => MlpResidual(_g.Op("Add", new[] { x, Attention(LayerNorm(x, block.Norm1, prefix + "norm1."), block.Attn, prefix + "attn.", tokens) }), block, prefix);

    private string MlpResidual(string x, Block block, string prefix)
    {
        var hidden = Gelu(Linear(LayerNorm(x, block.Norm2, prefix + "norm2."), block.Mlp.Fc1, prefix + "mlp.fc1."));
        return _g.Op("Add", new[] { x, Linear(hidden, block.Mlp.Fc2, prefix + "mlp.fc2.") });
    }

    private string Attention(string normed, Attention attention, string prefix, long tokens) => AttentionWithKeys(normed, attention, prefix, tokens, null).Output;

    /// <summary>Attention's projected output, and its keys averaged over heads [B, tokens, E / heads]; <paramref name="keyBias"/> [B, 1, 1, tokens] is added to the logits.</summary>
    private (string Output, string Keys) AttentionWithKeys(string normed, Attention attention, string prefix, long tokens, string? keyBias)
    {
        var d = _width / _heads;
        var qkv = _g.Op("Transpose", new[] { _g.Op("Reshape", new[] { Linear(normed, attention.Qkv, prefix + "qkv."), _g.Int64s(0, tokens, 3, _heads, d) }) }, Ints("perm", 2, 0, 3, 1, 4));
        string Part(long i) => _g.Op("Gather", new[] { qkv, _g.Int64(i) }, Int("axis", 0));
        var (q, k, v) = (Part(0), Part(1), Part(2));
        var scaled = _g.Op("Mul", new[] { q, _g.Float((float)(1 / Math.Sqrt(d))) });
        var logits = _g.Op("MatMul", new[] { scaled, _g.Op("Transpose", new[] { k }, Ints("perm", 0, 1, 3, 2)) });
        var probabilities = _g.Op("Softmax", new[] { keyBias is null ? logits : _g.Op("Add", new[] { logits, keyBias }) }, Int("axis", -1));
        var heads = _g.Op("Transpose", new[] { _g.Op("MatMul", new[] { probabilities, v }) }, Ints("perm", 0, 2, 1, 3));
        return (Linear(_g.Op("Reshape", new[] { heads, _g.Int64s(0, tokens, _width) }), attention.Proj, prefix + "proj."), Reduce("ReduceMean", k, 1, false));
    }

    string IOnnxNetworkWriter.TopK(string scores, long k) => _g.Ops("TopK", 2, new[] { scores, _g.Int64s(k) }, Int("axis", 1), Int("largest", 1), Int("sorted", 1))[1];

    string IOnnxNetworkWriter.WithClassToken(string indices)
    {
        var zeros = _g.Op("Mul", new[] { _g.Op("Slice", new[] { indices, _g.Int64s(0), _g.Int64s(1), _g.Int64s(1) }), _g.Int64(0) });
        return _g.Op("Concat", new[] { zeros, _g.Op("Add", new[] { indices, _g.Int64(1) }) }, Int("axis", 1));
    }

    /// <summary>
    /// Token positions [B, m] in sequences of <paramref name="tokens"/> → row numbers [B, m] in the [B·tokens, E]
    /// view of the sequences: whole rows are then copied by Gather and ScatterND (GatherElements and
    /// ScatterElements would go element by element, through an index tensor as large as the tokens).
    /// </summary>
    string IOnnxNetworkWriter.Rows(string positions, long tokens)
    {
        var batch = _g.Op("Squeeze", new[] { _g.Op("Slice", new[] { _g.Op("Shape", new[] { positions }), _g.Int64s(0), _g.Int64s(1) }), _g.Int64s(0) });
        var starts = _g.Op("Mul", new[] { _g.Op("Range", new[] { _g.Int64(0), batch, _g.Int64(1) }), _g.Int64(tokens) });
        return _g.Op("Add", new[] { positions, _g.Op("Unsqueeze", new[] { starts, _g.Int64s(1) }) });
    }

    string IOnnxNetworkWriter.GatherRows(string x, string rows) => _g.Op("Gather", new[] { _g.Op("Reshape", new[] { x, _g.Int64s(-1, _width) }), rows }, Int("axis", 0));

    string IOnnxNetworkWriter.ScatterRows(string x, string rows, string values, long tokens)
    {
        var scattered = _g.Op("ScatterND", new[] { _g.Op("Reshape", new[] { x, _g.Int64s(-1, _width) }), _g.Op("Unsqueeze", new[] { rows, _g.Int64s(-1) }), values });
        return _g.Op("Reshape", new[] { scattered, _g.Int64s(-1, tokens, _width) });
    }

    string IOnnxNetworkWriter.Patches(string perToken, long tokens) => _g.Op("Slice", new[] { perToken, _g.Int64s(1), _g.Int64s(tokens), _g.Int64s(1) });

    string IOnnxNetworkWriter.ReduceMean(string x, long axis, bool keep) => Reduce("ReduceMean", x, axis, keep);

    string IOnnxNetworkWriter.ReduceMax(string x, long axis, bool keep) => Reduce("ReduceMax", x, axis, keep);

    string IOnnxNetworkWriter.ReduceL2(string x, long axis, bool keep) => Reduce("ReduceL2", x, axis, keep);

    // Opset 18 moved the reductions' axes from an attribute to an input.
    private string Reduce(string op, string x, long axis, bool keep) => _options.Opset >= 18
        ? _g.Op(op, new[] { x, _g.Int64s(axis) }, Int("keepdims", keep ? 1 : 0))
        : _g.Op(op, new[] { x }, Ints("axes", axis), Int("keepdims", keep ? 1 : 0));

    /// <summary>
    /// x·Wᵀ + b. With <see cref="OnnxQuantization.DynamicInt8"/> and a network layer (<paramref name="quantizable"/>), the
    /// product is DynamicQuantizeLinear → MatMulInteger → Cast → Mul by (activation scale × weight scales), the pattern
    /// ONNX Runtime's CPU provider fuses into one quantised product; the bias stays a float32 Add.
    /// </summary>
    private string Linear(string x, Linear linear, string prefix, bool quantizable = true)
    {
        string product;
        if (quantizable && _options.Quantization == OnnxQuantization.DynamicInt8)
        {
            var (weight, scales, zeros) = QuantizedWeight(linear, prefix);
            var activations = _g.Ops("DynamicQuantizeLinear", 3, new[] { x });
            var integers = _g.Op("MatMulInteger", new[] { activations[0], weight, activations[2], zeros });
            var scale = _g.Op("Mul", new[] { activations[1], scales });
            product = _g.Op("Mul", new[] { _g.Op("Cast", new[] { integers }, Int("to", (long)global::Onnx.TensorProto.Types.DataType.Float)), scale });
        }
        else
        {
            product = _g.Op("MatMul", new[] { x, _g.Weight(prefix + "weight.T", linear.weight!.t()) });
        }

        return linear.bias is { } bias ? _g.Op("Add", new[] { product, _g.Weight(prefix + "bias", bias) }) : product;
    }

    /// <summary>A linear layer's Wᵀ as a float32 [in, out] value of the graph: the weight itself, or its int8 form dequantised.</summary>
    string IOnnxNetworkWriter.TransposedWeight(Linear linear, string prefix)
    {
        if (_options.Quantization != OnnxQuantization.DynamicInt8)
        {
            return _g.Weight(prefix + "weight.T", linear.weight!.t());
        }

        var (weight, scales, zeros) = QuantizedWeight(linear, prefix);
        return _g.Op("DequantizeLinear", new[] { weight, scales, zeros }, Int("axis", 1));
    }

    /// <summary>
    /// Wᵀ [in, out] as int8 with one float32 scale per output column, symmetric (zero points 0): q = round(w / s),
    /// s = max|w| / 63 over the column. Seven bits, not eight: x86 kernels without VNNI multiply uint8 by int8 in pairs
    /// summed into saturating int16 (255·127·2 overflows it, 255·63·2 does not), so the integer products are exact on
    /// every CPU and the int8 graph scores alike on AVX2, AVX-512 and AMX.
    /// </summary>
    private (string Weight, string Scales, string Zeros) QuantizedWeight(Linear linear, string prefix)
    {
        // qkv is read twice (the selectors' ranking and the product): quantised once.
        if (_quantized.TryGetValue(prefix, out var done))
        {
            return done;
        }

        using var scope = TorchSharp.torch.NewDisposeScope();
        var w = linear.weight!.detach().to_type(TorchSharp.torch.ScalarType.Float32).cpu().t();
        var scales = w.abs().amax(0) / QuantizedWeightLimit;
        scales = TorchSharp.torch.where(scales > 0, scales, TorchSharp.torch.ones_like(scales));
        var q = (w / scales).round().clamp(-QuantizedWeightLimit, QuantizedWeightLimit).to_type(TorchSharp.torch.ScalarType.Int8);
        return _quantized[prefix] = (_g.Int8Weight(prefix + "weight.T.int8", q), _g.Weight(prefix + "weight.scale", scales), _g.Int8Zeros(w.shape[1]));
    }

    private string LayerNorm(string x, LayerNorm norm, string prefix)
        => _g.Op("LayerNormalization", new[] { x, _g.Weight(prefix + "weight", norm.weight!), _g.Weight(prefix + "bias", norm.bias!) },
            Int("axis", -1), FloatAttribute("epsilon", (float)_model.Config.LayerNormEps));

    /// <summary>
    /// GELU in its exact erf form, 0.5·x·(1 + erf(x/√2)), written as torch.onnx writes it (a division by √2): the
    /// pattern ONNX Runtime's GELU fusion recognises (with x·(1/√2) it left Erf, Add and two Mul unfused).
    /// </summary>
    private string Gelu(string x)
    {
        var erf = _g.Op("Erf", new[] { _g.Op("Div", new[] { x, _g.Float((float)Math.Sqrt(2)) }) });
        return _g.Op("Mul", new[] { _g.Op("Mul", new[] { x, _g.Op("Add", new[] { erf, _g.Float(1) }) }), _g.Float(0.5f) });
    }
}
