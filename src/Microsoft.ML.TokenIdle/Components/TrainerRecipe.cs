using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// How a model was trained: the trainer's type name and its options as JSON (columns, backbone, recipe and method; not
/// the validation set or callbacks). Saved in the model zip, so that code generation can rebuild the training pipeline.
/// </summary>
/// <param name="Trainer">The trainer's type name, e.g. <c>TokenIdleImageClassificationTrainer</c>.</param>
/// <param name="Options">Its <c>Options</c> object, serialised.</param>
internal sealed record TrainerRecipe(string Trainer, JsonElement Options)
{
    /// <summary>The key of the backbone in a recipe; a recipe without it was saved before backbones were named.</summary>
    public const string BackboneKey = nameof(VisionTransformerTrainerBase.OptionsBase.Backbone);

    // The older spellings of the backbone, which the recipe of a trained model replaces by the backbone it used.
    private static readonly string[] OlderBackboneKeys = { "Architecture", "ConfigPath", "PretrainedWeightsPath", "PretrainedModel", "PretrainedModelRevision" };

    /// <summary>Serialised options that name <paramref name="backbone"/>, the backbone the run used, in place of however they named it.</summary>
    public static JsonElement WithBackbone(JsonElement options, Backbone backbone)
    {
        var node = JsonNode.Parse(options.GetRawText())!.AsObject();
        foreach (var key in OlderBackboneKeys)
        {
            node.Remove(key);
        }

        node[BackboneKey] = JsonSerializer.SerializeToNode(backbone);
        return JsonSerializer.SerializeToElement(node);
    }
}
