using System.Text.Json;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// How a model was trained: the trainer's type name and its options as JSON (columns, backbone files, recipe and
/// method; not the validation set or callbacks). Saved in the model zip, so that code generation can rebuild
/// the training pipeline.
/// </summary>
/// <param name="Trainer">The trainer's type name, e.g. <c>TokenIdleImageClassificationTrainer</c>.</param>
/// <param name="Options">Its <c>Options</c> object, serialised.</param>
internal sealed record TrainerRecipe(string Trainer, JsonElement Options);
