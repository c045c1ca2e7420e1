using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// Named weights of TorchSharp modules as PyTorch state dicts name them (<c>blocks.0.attn.qkv.weight</c>), saved as
/// safetensors and loaded strictly: every parameter present with its shape and no other key.
/// </summary>
public static class ModuleWeights
{
    /// <summary>Every parameter with its dotted name, prefixed by <paramref name="prefix"/>.</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> NamedParameters(this nn.Module module, string prefix = "")
        => module.named_parameters().Select(p => KeyValuePair.Create(prefix + p.name, (Tensor)p.parameter));

    /// <summary>Saves the parameters as a safetensors file (float32, atomically).</summary>
    public static void SaveWeights(this nn.Module module, string path)
        => SafetensorsFile.Write(path, module.NamedParameters(), new Dictionary<string, string> { ["format"] = "pt" });

    /// <summary>Loads a safetensors file (F32, F16 or BF16) into the parameters (see <see cref="LoadStateDict"/>).</summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped; the message names it and both shapes.</exception>
    public static void LoadWeights(this nn.Module module, string path)
    {
        using var scope = NewDisposeScope();
        module.LoadStateDict(SafetensorsFile.Read(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()), path);
    }

    /// <summary>A description of the first parameter holding NaN or infinite values, or null (see <see cref="NonFinite(IEnumerable{KeyValuePair{string, Tensor}})"/>).</summary>
    public static string? NonFinite(nn.Module module) => NonFinite(module.NamedParameters());

    /// <summary>A description of the first tensor holding NaN or infinite values ("key 'x' holds 3 non-finite values"), or null when all are finite.</summary>
    public static string? NonFinite(IEnumerable<KeyValuePair<string, Tensor>> state)
    {
        using var scope = NewDisposeScope();
        foreach (var (name, value) in state)
        {
            var finite = value.isfinite();
            var bad = finite.numel() - finite.sum().item<long>();
            if (bad > 0)
            {
                return $"key '{name}' holds {bad} non-finite value(s) (NaN or infinity)";
            }
        }

        return null;
    }

    /// <summary>Refuses to train from parameters holding NaN or infinite values (every weight would become NaN).</summary>
    /// <exception cref="InvalidDataException">A parameter is not finite; the message names <paramref name="source"/> and the key.</exception>
    public static void RequireFinite(nn.Module module, string source)
    {
        if (NonFinite(module) is { } bad)
        {
            throw new InvalidDataException($"'{source}': {bad}; training cannot start from these weights");
        }
    }

    /// <summary>
    /// Checks stored shapes against the expected ones before anything is allocated or copied: every expected key
    /// present, no other key, each shape equal or accepted by <paramref name="accepts"/> (name, stored, expected).
    /// </summary>
    /// <exception cref="InvalidDataException">The first missing, unexpected or mis-shaped key, named with both shapes.</exception>
    public static void CheckShapes(IEnumerable<KeyValuePair<string, long[]>> expected, IReadOnlyDictionary<string, long[]> stored, string source, Func<string, long[], long[], bool>? accepts = null)
    {
        var wanted = expected.ToList();
        var names = wanted.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var extra = stored.Keys.Where(k => !names.Contains(k)).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException($"'{source}': unexpected key '{extra[0]}' {Shapes.Format(stored[extra[0]])}" + (extra.Count > 1 ? $" (and {extra.Count - 1} more)" : string.Empty));
        }

        foreach (var (name, shape) in wanted)
        {
            if (!stored.TryGetValue(name, out var given))
            {
                throw new InvalidDataException($"'{source}': missing key '{name}' (expected shape {Shapes.Format(shape)})");
            }

            if (!given.SequenceEqual(shape) && accepts?.Invoke(name, given, shape) != true)
            {
                throw new InvalidDataException($"'{source}': key '{name}' has shape {Shapes.Format(given)}, the model expects {Shapes.Format(shape)}");
            }
        }
    }

    /// <summary>
    /// Copies a state dict into the parameters after <see cref="CheckShapes"/>; a shape that <paramref name="accepts"/>
    /// lets through is converted by <paramref name="adapt"/> (a position embedding resampled to another grid). Nothing
    /// is copied unless every key checks out; <paramref name="source"/> names the state in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped.</exception>
    public static void LoadStateDict(this nn.Module module, IReadOnlyDictionary<string, Tensor> state, string source = "state dict",
        Func<string, long[], long[], bool>? accepts = null, Func<string, Tensor, Tensor, Tensor>? adapt = null)
    {
        var own = module.NamedParameters().ToList();
        CheckShapes(own.Select(p => KeyValuePair.Create(p.Key, p.Value.shape)), state.ToDictionary(kv => kv.Key, kv => kv.Value.shape), source, accepts);
        using var _ = no_grad();
        foreach (var (name, parameter) in own)
        {
            var value = state[name];
            parameter.copy_(value.shape.SequenceEqual(parameter.shape) ? value : adapt!(name, value, parameter));
        }
    }
}
