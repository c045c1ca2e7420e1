using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;

namespace Microsoft.ML.TokenIdle.CodeGeneration;

/// <summary>
/// The trainer call that made a model, as C#: the catalog method and an object initializer of its <c>Options</c>
/// holding every setting that differs from the default (nested for the method's token-reduction options).
/// </summary>
internal static class OptionsCode
{
    private static readonly Dictionary<string, (Type Options, string Catalog)> Trainers = new()
    {
        [nameof(VisionTransformerTrainer)] = (typeof(VisionTransformerTrainer.Options), nameof(TokenIdleCatalog.VisionTransformer)),
        [nameof(TokenIdleImageClassificationTrainer)] = (typeof(TokenIdleImageClassificationTrainer.Options), nameof(TokenIdleCatalog.TokenIdleImageClassification)),
        [nameof(TokenReorganizationImageClassificationTrainer)] = (typeof(TokenReorganizationImageClassificationTrainer.Options), nameof(TokenIdleCatalog.TokenReorganizationImageClassification)),
        [nameof(LifeRegressionSlimmingTrainer)] = (typeof(LifeRegressionSlimmingTrainer.Options), nameof(TokenIdleCatalog.LifeRegressionSlimming)),
        [nameof(TokenMergingImageClassificationTrainer)] = (typeof(TokenMergingImageClassificationTrainer.Options), nameof(TokenIdleCatalog.TokenMergingImageClassification)),
    };

    /// <summary><c>mlContext.MulticlassClassification.Trainers.X(new XTrainer.Options { … })</c>, indented by <paramref name="indent"/>.</summary>
    /// <exception cref="InvalidDataException">The recipe names an unknown trainer or cannot be read as its options.</exception>
    public static string TrainerCall(TrainerRecipe recipe, string indent)
    {
        var (trainer, options) = Read(recipe);
        var code = new StringBuilder();
        code.Append(CultureInvariant($"mlContext.MulticlassClassification.Trainers.{trainer.Catalog}(new {recipe.Trainer}.Options\n{indent}{{\n"));
        Initializer(code, options, Activator.CreateInstance(trainer.Options)!, indent + "    ");
        code.Append(CultureInvariant($"{indent}}})"));
        return code.ToString();
    }

    /// <summary>The trainer's options a recipe holds, in today's names.</summary>
    /// <exception cref="InvalidDataException">The recipe names an unknown trainer or cannot be read as its options.</exception>
    public static VisionTransformerTrainerBase.OptionsBase Options(TrainerRecipe recipe) => Read(recipe).Options;

    private static ((Type Options, string Catalog) Trainer, VisionTransformerTrainerBase.OptionsBase Options) Read(TrainerRecipe recipe)
    {
        if (!Trainers.TryGetValue(recipe.Trainer, out var trainer))
        {
            throw new InvalidDataException($"the model was trained by '{recipe.Trainer}', which has no code generator");
        }

        VisionTransformerTrainerBase.OptionsBase options;
        try
        {
            options = (VisionTransformerTrainerBase.OptionsBase)(recipe.Options.Deserialize(trainer.Options) ?? throw new JsonException("empty options"));

            // Written in today's names; a recipe that names no backbone was saved when the embedded model was the default.
            options.UseCurrentNames(recipe.Options.TryGetProperty(TrainerRecipe.BackboneKey, out _) ? null : Backbone.FashionMnist);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"the model's {recipe.Trainer} options cannot be read: {e.Message}", e);
        }

        return (trainer, options);
    }

    private static void Initializer(StringBuilder code, object options, object defaults, string indent)
    {
        foreach (var property in Settable(options.GetType()))
        {
            var (value, standard) = (property.GetValue(options), property.GetValue(defaults));
            if (Same(value, standard))
            {
                continue;
            }

            if (value is not null && standard is not null && typeof(IReductionMethodOptions).IsAssignableFrom(property.PropertyType))
            {
                // The method's options object is created by the Options class: set its members in place.
                code.Append(CultureInvariant($"{indent}{property.Name} =\n{indent}{{\n"));
                Initializer(code, value, standard, indent + "    ");
                code.Append(CultureInvariant($"{indent}}},\n"));
                continue;
            }

            code.Append(CultureInvariant($"{indent}{property.Name} = {Literal(value)},\n"));
        }
    }

    private static IEnumerable<PropertyInfo> Settable(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetCustomAttribute<JsonIgnoreAttribute>() is null && p.GetCustomAttribute<ObsoleteAttribute>() is null)
            .OrderBy(p => p.DeclaringType == type ? 1 : 0)
            .ThenBy(p => p.MetadataToken);

    private static bool Same(object? a, object? b) => JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b);

    private static string Literal(object? value) => value is EarlyStopping stop
        ? $"new EarlyStopping(MinDelta: {CSharpLiteral.Of(stop.MinDelta)}, Patience: {CSharpLiteral.Of(stop.Patience)}, Metric: {CSharpLiteral.Of(stop.Metric)})"
        : CSharpLiteral.Of(value);

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
