using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// A network part with named parameters and child modules; names join with dots as in PyTorch
/// state dicts (<c>blocks.0.attn.qkv.weight</c>).
/// </summary>
public abstract class Module
{
    private readonly List<KeyValuePair<string, Tensor>> _parameters = new();
    private readonly List<KeyValuePair<string, Module>> _children = new();

    /// <summary>Whether the module is in training mode (dropout and drop-path active).</summary>
    public bool IsTraining { get; private set; }

    /// <summary>Registers a parameter (it requires a gradient).</summary>
    protected Tensor Parameter(string name, Tensor value)
    {
        value.RequiresGrad = true;
        _parameters.Add(new(name, value));
        return value;
    }

    /// <summary>Registers a child module.</summary>
    protected T Child<T>(string name, T module)
        where T : Module
    {
        _children.Add(new(name, module));
        return module;
    }

    /// <summary>Every parameter with its full dotted name, parents' parameters first, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters)
        {
            yield return new(prefix + name, p);
        }

        foreach (var (name, child) in _children)
        {
            foreach (var kv in child.NamedParameters(prefix + name + "."))
            {
                yield return kv;
            }
        }
    }

    /// <summary>Switches this module and its children to training (true) or evaluation (false) mode.</summary>
    public void Train(bool training = true)
    {
        IsTraining = training;
        foreach (var (_, child) in _children)
        {
            child.Train(training);
        }
    }

    /// <summary>Clears the gradients of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in NamedParameters())
        {
            p.Grad = null;
        }
    }

    /// <summary>Number of scalar parameters.</summary>
    public long ParameterCount() => NamedParameters().Sum(p => (long)p.Value.Length);

    /// <summary>The parameters by dotted name.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict() => NamedParameters().ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Saves the parameters as a safetensors file (atomically: a temporary file, then a rename).</summary>
    public void SaveWeights(string path) => SafetensorsFile.Write(path, NamedParameters(), new Dictionary<string, string> { ["format"] = "pt" });

    /// <summary>
    /// Loads named weights from a safetensors file (F32, F16 or BF16). Every parameter must be
    /// present with its shape, and no other key.
    /// </summary>
    /// <exception cref="InvalidDataException">A key is missing, unexpected or mis-shaped; the message names it and both shapes.</exception>
    public void LoadWeights(string path) => LoadStateDict(SafetensorsFile.Read(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor()), path);

    /// <summary>
    /// Copies values from a state dict (see <see cref="LoadWeights"/>); <paramref name="source"/> names
    /// it in errors. Nothing is copied unless every key checks out.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string source = "state dict")
    {
        var own = StateDict();
        var extra = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException($"'{source}': unexpected key '{extra[0]}' {ShapeUtil.Format(state[extra[0]].Shape)}" + (extra.Count > 1 ? $" (and {extra.Count - 1} more)" : string.Empty));
        }

        var resolved = new Dictionary<string, Tensor>();
        foreach (var (name, p) in own)
        {
            if (!state.TryGetValue(name, out var value))
            {
                throw new InvalidDataException($"'{source}': missing key '{name}' (expected shape {ShapeUtil.Format(p.Shape)})");
            }

            value = AdaptLoadedValue(name, value, p);
            if (!ShapeUtil.SameShape(value.Shape, p.Shape))
            {
                throw new InvalidDataException($"'{source}': key '{name}' has shape {ShapeUtil.Format(value.Shape)}, the model expects {ShapeUtil.Format(p.Shape)}");
            }

            resolved[name] = value;
        }

        foreach (var (name, p) in own)
        {
            resolved[name].Data.CopyTo(p.Data);
        }
    }

    /// <summary>Lets a model convert a loaded value before its shape is checked (e.g. resample a position embedding).</summary>
    protected virtual Tensor AdaptLoadedValue(string name, Tensor value, Tensor parameter) => value;
}
