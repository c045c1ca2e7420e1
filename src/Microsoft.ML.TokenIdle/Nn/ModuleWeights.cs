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
    public static void LoadWeights(this nn.Module module, string path, Func<string, Tensor, Tensor, Tensor>? adapt = null)
    {
        using var scope = NewDisposeScope();
        module.LoadStateDict(SafetensorsFile.Read(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()), path, adapt);
    }

    /// <summary>
    /// Copies a state dict into the parameters; <paramref name="adapt"/> may convert a value before its shape is
    /// checked (a position embedding resampled to another grid). Nothing is copied unless every key checks out;
    /// <paramref name="source"/> names the state in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped.</exception>
    public static void LoadStateDict(this nn.Module module, IReadOnlyDictionary<string, Tensor> state, string source = "state dict", Func<string, Tensor, Tensor, Tensor>? adapt = null)
    {
        var own = module.NamedParameters().ToList();
        var names = own.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var extra = state.Keys.Where(k => !names.Contains(k)).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException($"'{source}': unexpected key '{extra[0]}' {Shapes.Format(state[extra[0]].shape)}" + (extra.Count > 1 ? $" (and {extra.Count - 1} more)" : string.Empty));
        }

        var resolved = new List<(Tensor Parameter, Tensor Value)>();
        foreach (var (name, parameter) in own)
        {
            if (!state.TryGetValue(name, out var value))
            {
                throw new InvalidDataException($"'{source}': missing key '{name}' (expected shape {Shapes.Format(parameter.shape)})");
            }

            value = adapt?.Invoke(name, value, parameter) ?? value;
            if (!value.shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException($"'{source}': key '{name}' has shape {Shapes.Format(value.shape)}, the model expects {Shapes.Format(parameter.shape)}");
            }

            resolved.Add((parameter, value));
        }

        using var _ = no_grad();
        foreach (var (parameter, value) in resolved)
        {
            parameter.copy_(value);
        }
    }
}
