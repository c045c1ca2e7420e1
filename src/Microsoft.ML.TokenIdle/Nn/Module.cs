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
}
