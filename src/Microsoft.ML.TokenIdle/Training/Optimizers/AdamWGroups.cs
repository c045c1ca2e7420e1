using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Optimizers;

/// <summary>
/// libtorch's AdamW (β = 0.9, 0.999, ε = 1e-8) over two parameter groups, timm's convention: weight decay for
/// matrices, none for biases, norms (every one-dimensional parameter), <c>pos_embed</c> and <c>cls_token</c>.
/// </summary>
public static class AdamWGroups
{
    /// <summary>Whether a parameter gets weight decay.</summary>
    public static bool DecaysWeight(string name, Tensor parameter)
        => parameter.dim() > 1 && !name.EndsWith("pos_embed", StringComparison.Ordinal) && !name.EndsWith("cls_token", StringComparison.Ordinal);

    /// <summary>The optimizer over <paramref name="parameters"/> (by name), decaying as <see cref="DecaysWeight"/> says.</summary>
    /// <exception cref="ArgumentException">Two parameters share a name.</exception>
    public static AdamW Create(IEnumerable<KeyValuePair<string, Parameter>> parameters, double weightDecay)
    {
        var list = parameters.ToList();
        if (list.Select(p => p.Key).Distinct(StringComparer.Ordinal).Count() != list.Count)
        {
            throw new ArgumentException("AdamW: parameter names must be distinct");
        }

        var decay = list.Where(p => DecaysWeight(p.Key, p.Value)).Select(p => p.Value).ToList();
        var flat = list.Where(p => !DecaysWeight(p.Key, p.Value)).Select(p => p.Value).ToList();
        var groups = new[] { new AdamW.ParamGroup(decay, weight_decay: weightDecay), new AdamW.ParamGroup(flat, weight_decay: 0) }
            .Where(g => g.Parameters.Any());
        return optim.AdamW(groups);
    }

    /// <summary>Sets every group's learning rate (the schedule's rate for the next step).</summary>
    public static void SetLearningRate(AdamW optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = rate;
        }
    }
}
