using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle;

/// <summary>Finetunes the full ViT (no token reduction): <c>MulticlassClassification.Trainers.VisionTransformer</c>.</summary>
public sealed class VisionTransformerTrainer : VisionTransformerTrainerBase
{
    internal VisionTransformerTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(VisionTransformerTrainer))
    {
    }

    /// <summary>The full model's settings: those of every ViT trainer, and no method.</summary>
    public sealed class Options : OptionsBase
    {
        internal override IReductionMethodOptions? Method => null;
    }
}
