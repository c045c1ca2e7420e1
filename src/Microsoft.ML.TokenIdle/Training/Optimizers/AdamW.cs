using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Training.Optimizers;

/// <summary>
/// AdamW (Loshchilov and Hutter): Adam with weight decay decoupled from the gradient, as PyTorch's
/// <c>torch.optim.AdamW</c>. Biases, norm parameters, <c>pos_embed</c> and <c>cls_token</c> get no
/// weight decay (timm's convention: every parameter of one dimension, plus the two embeddings).
/// </summary>
public sealed class AdamW
{
    private readonly List<(string Name, Tensor Parameter, bool Decay)> _parameters;
    private readonly Dictionary<string, (Tensor M, Tensor V)> _moments = new();

    /// <summary>Optimises the given named parameters.</summary>
    public AdamW(IEnumerable<KeyValuePair<string, Tensor>> parameters)
    {
        _parameters = parameters.Select(p => (p.Key, p.Value, DecaysWeight(p.Key, p.Value))).ToList();
        if (_parameters.Select(p => p.Name).Distinct().Count() != _parameters.Count)
        {
            throw new ArgumentException("AdamW: parameter names must be distinct");
        }
    }

    /// <summary>β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β₂ (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay (default 0.05, DeiT's).</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>Updates taken so far (t).</summary>
    public long Step { get; private set; }

    /// <summary>The parameters this optimizer updates, by name.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Parameters => _parameters.Select(p => KeyValuePair.Create(p.Name, p.Parameter));

    /// <summary>Whether a parameter gets weight decay: not biases, norms (any 1-D tensor), <c>pos_embed</c> or <c>cls_token</c>.</summary>
    public static bool DecaysWeight(string name, Tensor parameter)
        => parameter.Rank > 1 && !name.EndsWith("pos_embed", StringComparison.Ordinal) && !name.EndsWith("cls_token", StringComparison.Ordinal);

    /// <summary>One update at learning rate <paramref name="learningRate"/>; parameters without a gradient are left alone.</summary>
    public void Update(double learningRate)
    {
        Step++;
        var c1 = (float)(1 - Math.Pow(Beta1, Step));
        var c2 = (float)(1 - Math.Pow(Beta2, Step));
        foreach (var (name, p, decay) in _parameters)
        {
            if (p.Grad is not { } g)
            {
                continue;
            }

            if (!_moments.TryGetValue(name, out var moments))
            {
                var be = Ops.BackendOf(p);
                moments = (be.Zeros(p.ShapeArray.ToArray()), be.Zeros(p.ShapeArray.ToArray()));
                _moments[name] = moments;
            }

            Ops.BackendOf(p).AdamWUpdate(p, g, moments.M, moments.V, (float)learningRate, (float)Beta1, (float)Beta2, (float)Epsilon, decay ? (float)WeightDecay : 0f, c1, c2);
        }
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p, _) in _parameters)
        {
            p.Grad = null;
        }
    }

    /// <summary>The optimizer's state as named tensors (moments under <c>adamw.m.NAME</c> / <c>adamw.v.NAME</c>, the step count under <c>adamw.step</c>).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        yield return KeyValuePair.Create("adamw.step", Tensor.FromArray(new[] { (float)Step }, 1));
        foreach (var (name, (m, v)) in _moments)
        {
            yield return KeyValuePair.Create("adamw.m." + name, m);
            yield return KeyValuePair.Create("adamw.v." + name, v);
        }
    }

    /// <summary>Restores <see cref="StateTensors"/>.</summary>
    /// <exception cref="InvalidDataException">The state names a parameter this optimizer does not have, or a shape differs.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        Step = state.TryGetValue("adamw.step", out var step) ? (long)step.Data[0] : throw new InvalidDataException($"'{source}': no 'adamw.step' in the optimizer state");
        _moments.Clear();
        foreach (var (name, p, _) in _parameters)
        {
            if (state.TryGetValue("adamw.m." + name, out var m) && state.TryGetValue("adamw.v." + name, out var v))
            {
                if (!ShapeUtil.SameShape(m.Shape, p.Shape) || !ShapeUtil.SameShape(v.Shape, p.Shape))
                {
                    throw new InvalidDataException($"'{source}': optimizer moments of '{name}' have shape {ShapeUtil.Format(m.Shape)}, the parameter {ShapeUtil.Format(p.Shape)}");
                }

                _moments[name] = (m.Clone(), v.Clone());
            }
        }

        var unknown = state.Keys.Where(k => k.StartsWith("adamw.m.", StringComparison.Ordinal)).Select(k => k["adamw.m.".Length..]).FirstOrDefault(n => !_parameters.Any(p => p.Name == n));
        if (unknown is not null)
        {
            throw new InvalidDataException($"'{source}': optimizer state for unknown parameter '{unknown}'");
        }
    }
}
