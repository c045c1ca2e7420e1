using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Pipeline.Trainers;
using Microsoft.ML.TokenIdle.Pipeline.Transforms;
using Microsoft.ML.TokenIdle.Pipeline.Transforms.Image;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Pipeline.Model;

/// <summary>How each built-in transformer is written to its folder of a model zip and read back (settings in <c>Model.key</c>, weights as safetensors).</summary>
internal static class TransformerPersistence
{
    public const string ChainLoader = "TransformerChain";
    public const string ValueToKeyLoader = "ValueToKeyMapping";
    public const string KeyToValueLoader = "KeyToValueMapping";
    public const string ImageLoaderLoader = "ImageLoading";
    public const string ResizerLoader = "ImageResizing";
    public const string PixelsLoader = "ImagePixelExtracting";
    public const string ClassifierLoader = "VisionTransformerClassifier";
    private const string PredictorPrefix = "life_predictor.";

    private static readonly ModelVersion Chain = new("TXTRCHAN", 0x00010001, 0x00010001, ChainLoader);
    private static readonly ModelVersion ValueToKey = new("TERMTRAN", 0x00010001, 0x00010001, ValueToKeyLoader);
    private static readonly ModelVersion KeyToValue = new("KEY2VALT", 0x00010001, 0x00010001, KeyToValueLoader);
    private static readonly ModelVersion ImageLoader = new("IMGLOADR", 0x00010001, 0x00010001, ImageLoaderLoader);
    private static readonly ModelVersion Resizer = new("IMGSCALF", 0x00010001, 0x00010001, ResizerLoader);
    private static readonly ModelVersion Pixels = new("IMGPXEXT", 0x00010001, 0x00010001, PixelsLoader);
    private static readonly ModelVersion Classifier = new("VITCLSFR", 0x00010001, 0x00010001, ClassifierLoader);

    public static void SaveChain(ModelSaveContext ctx, IReadOnlyList<ITransformer> steps)
    {
        ctx.WriteModel(Chain, new JsonObject { ["count"] = steps.Count });
        for (var i = 0; i < steps.Count; i++)
        {
            Save(ctx.Child($"Transform_{i:D3}"), steps[i]);
        }
    }

    public static ITransformer LoadChain(ModelLoadContext ctx, JsonObject settings)
    {
        ModelFormat.CheckVersion(ctx, settings, Chain);
        var count = (int)ctx.Number(settings, "count");
        var steps = Enumerable.Range(0, count).Select(i => ModelFormat.LoadComponent(ctx.Child($"Transform_{i:D3}"))).ToArray();
        return new TransformerChain<ITransformer>(steps);
    }

    public static ITransformer LoadValueToKey(ModelLoadContext ctx, JsonObject s)
    {
        ModelFormat.CheckVersion(ctx, s, ValueToKey);
        var type = SchemaSerializer.Primitive(ctx.String(s, "value_type")) ?? throw ctx.Invalid("unknown value type");
        var values = s["values"]!.AsArray().Select(v => type is TextDataViewType ? v!.GetValue<string>() : Convert.ChangeType(v!.GetValue<string>(), type.RawType, CultureInfo.InvariantCulture)).ToArray();
        return new ValueToKeyMappingTransformer(ctx.String(s, "output"), ctx.String(s, "input"), type, values!, s["key_values_as_text"]!.GetValue<bool>());
    }

    public static ITransformer LoadKeyToValue(ModelLoadContext ctx, JsonObject s)
    {
        ModelFormat.CheckVersion(ctx, s, KeyToValue);
        return new KeyToValueMappingTransformer(ctx.String(s, "output"), ctx.String(s, "input"));
    }

    public static ITransformer LoadImageLoader(ModelLoadContext ctx, JsonObject s)
    {
        ModelFormat.CheckVersion(ctx, s, ImageLoader);
        return new ImageLoadingTransformer(ctx.String(s, "output"), s["image_folder"]?.GetValue<string>(), ctx.String(s, "input"), s["raw_bytes"]!.GetValue<bool>());
    }

    public static ITransformer LoadResizer(ModelLoadContext ctx, JsonObject s)
    {
        ModelFormat.CheckVersion(ctx, s, Resizer);
        return new ImageResizingTransformer(ctx.String(s, "output"), (int)ctx.Number(s, "width"), (int)ctx.Number(s, "height"), ctx.String(s, "input"),
            Enum.Parse<ImageResizingEstimator.ResizingKind>(ctx.String(s, "resizing")), Enum.Parse<ImageResizingEstimator.Anchor>(ctx.String(s, "anchor")), Enum.Parse<ResamplingFilter>(ctx.String(s, "filter")));
    }

    public static ITransformer LoadPixels(ModelLoadContext ctx, JsonObject s)
    {
        ModelFormat.CheckVersion(ctx, s, Pixels);
        return new ImagePixelExtractingTransformer(ctx.String(s, "output"), ctx.String(s, "input"), Enum.Parse<ImagePixelExtractingEstimator.ColorBits>(ctx.String(s, "colors")),
            Enum.Parse<ImagePixelExtractingEstimator.ColorsOrder>(ctx.String(s, "order")), s["interleave"]!.GetValue<bool>(), (float)ctx.Number(s, "offset"), (float)ctx.Number(s, "scale"), s["as_float"]!.GetValue<bool>());
    }

    public static ITransformer LoadClassifier(ModelLoadContext ctx, JsonObject s)
    {
        ModelFormat.CheckVersion(ctx, s, Classifier);
        ctx.Context.SelectDevice(ClassifierLoader);
        VisionTransformerConfig config;
        try
        {
            config = System.Text.Json.JsonSerializer.Deserialize<VisionTransformerConfig>(ctx.ReadBytes("config.json")) ?? throw ctx.Invalid("config.json is empty");
            config.Validate();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            throw ctx.Invalid($"config.json: {e.Message}");
        }

        var model = new VisionTransformer(config);
        var state = SafetensorsFile.Parse(ctx.ReadBytes("TSModel.safetensors"), $"{ctx.Source}: TSModel.safetensors").ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
        model.LoadStateDict(state.Where(kv => !kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value), ctx.Source);
        model.Train(false);

        var method = TokenReductionMethods.Parse(ctx.String(s, "method"));
        var keepRate = ctx.Number(s, "keep_rate");
        LifePredictor? predictor = null;
        if (method == TokenReductionMethod.Life)
        {
            predictor = new LifePredictor(config.EmbedDim, (float)config.LayerNormEps);
            predictor.LoadStateDict(state.Where(kv => kv.Key.StartsWith(PredictorPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[PredictorPrefix.Length..], kv => kv.Value), ctx.Source);
        }

        var options = TokenReductionMethods.Options(method, keepRate, s["schedule"]?.AsArray().Select(r => r!.GetValue<double>()).ToArray(), predictor);
        if (options is LifeRegressionOptions life)
        {
            (life.PredictorLayer, life.Steepness) = ((int)ctx.Number(s, "predictor_layer"), ctx.Number(s, "steepness"));
        }

        var classNames = s["class_names"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        var keyType = SchemaSerializer.Primitive(ctx.String(s, "key_value_type")) ?? throw ctx.Invalid("unknown key value type");
        return new VisionTransformerClassifier(model, options?.CreateStrategy(config), ctx.String(s, "method"), keepRate, KeyValues(keyType, classNames), classNames,
            ctx.String(s, "image_column"), ctx.String(s, "score_column"), ctx.String(s, "prediction_column"), (int)ctx.Number(s, "batch_size"), s["token_mask_column"]?.GetValue<string>());
    }

    private static void Save(ModelSaveContext ctx, ITransformer transformer)
    {
        switch (transformer)
        {
            case IEnumerable<ITransformer> chain:
                SaveChain(ctx, chain.ToArray());
                break;
            case ValueToKeyMappingTransformer t:
                ctx.WriteModel(ValueToKey, new JsonObject
                {
                    ["output"] = t.OutputColumnName, ["input"] = t.InputColumnName, ["value_type"] = SchemaSerializer.Type(t.ValueType).GetValue<string>(), ["key_values_as_text"] = t.KeyValuesAsText,
                    ["values"] = new JsonArray(t.Values.Select(v => (JsonNode)Convert.ToString(v, CultureInfo.InvariantCulture)!).ToArray()),
                });
                break;
            case KeyToValueMappingTransformer t:
                ctx.WriteModel(KeyToValue, new JsonObject { ["output"] = t.OutputColumnName, ["input"] = t.InputColumnName });
                break;
            case ImageLoadingTransformer t:
                ctx.WriteModel(ImageLoader, new JsonObject { ["output"] = t.OutputColumnName, ["image_folder"] = t.ImageFolder, ["input"] = t.InputColumnName, ["raw_bytes"] = t.RawBytes });
                break;
            case ImageResizingTransformer t:
                ctx.WriteModel(Resizer, new JsonObject
                {
                    ["output"] = t.OutputColumnName, ["width"] = t.Width, ["height"] = t.Height, ["input"] = t.InputColumnName,
                    ["resizing"] = t.Resizing.ToString(), ["anchor"] = t.CropAnchor.ToString(), ["filter"] = t.Filter.ToString(),
                });
                break;
            case ImagePixelExtractingTransformer t:
                ctx.WriteModel(Pixels, new JsonObject
                {
                    ["output"] = t.OutputColumnName, ["input"] = t.InputColumnName, ["colors"] = t.Colors.ToString(), ["order"] = t.Order.ToString(),
                    ["interleave"] = t.Interleave, ["offset"] = t.Offset, ["scale"] = t.Scale, ["as_float"] = t.OutputAsFloatArray,
                });
                break;
            case VisionTransformerClassifier t:
                SaveClassifier(ctx, t);
                break;
            default:
                throw new NotSupportedException($"a {transformer.GetType().Name} cannot be saved in a model zip");
        }
    }

    private static void SaveClassifier(ModelSaveContext ctx, VisionTransformerClassifier t)
    {
        var life = t.Strategy?.Selector as LifeRegressionSelector;
        var settings = new JsonObject
        {
            ["method"] = t.Method,
            ["keep_rate"] = t.KeepRate,
            ["schedule"] = t.Strategy is null ? null : new JsonArray(t.Strategy.Schedule.Ratios.Select(r => (JsonNode)r).ToArray()),
            ["predictor_layer"] = life?.PredictorLayer,
            ["steepness"] = life?.Steepness,
            ["class_names"] = new JsonArray(t.ClassNames.Select(n => (JsonNode)n).ToArray()),
            ["key_value_type"] = t.LabelAnnotations.GetTypeOrNull(AnnotationKinds.KeyValues) is VectorDataViewType kv ? SchemaSerializer.Type(kv.ItemType).GetValue<string>() : "String",
            ["image_column"] = t.ImageColumnName,
            ["score_column"] = t.ScoreColumnName,
            ["prediction_column"] = t.PredictionColumnName,
            ["batch_size"] = t.BatchSize,
            ["token_mask_column"] = t.TokenMaskColumnName,
        };
        ctx.WriteModel(Classifier, settings);
        ctx.WriteBinary("config.json", stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(t.Model.Config.ToJson())));
        var tensors = t.Model.NamedParameters().Concat(life?.Predictor.NamedParameters(PredictorPrefix) ?? Enumerable.Empty<KeyValuePair<string, Tensors.Tensor>>());
        ctx.WriteBinary("TSModel.safetensors", stream => SafetensorsFile.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" }));
    }

    /// <summary>The label's KeyValues annotation rebuilt from the class names in its item type.</summary>
    private static DataViewSchema.Annotations KeyValues(PrimitiveDataViewType type, string[] names)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        typeof(TransformerPersistence).GetMethod(nameof(AddKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type.RawType).Invoke(null, new object[] { builder, type, names });
        return builder.ToAnnotations();
    }

    private static void AddKeyValues<T>(DataViewSchema.Annotations.Builder builder, PrimitiveDataViewType type, string[] names)
    {
        var values = names.Select(n => type is TextDataViewType ? (T)(object)n.AsMemory() : (T)Convert.ChangeType(n, typeof(T), CultureInfo.InvariantCulture)).ToArray();
        builder.AddKeyValues(values.Length, type, (ref VBuffer<T> value) => value = new VBuffer<T>(values.Length, values));
    }
}
