namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>A view with another shape over the same elements (one dimension may be −1).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var resolved = shape.ToArray();
        var unknown = Array.IndexOf(resolved, -1);
        if (unknown >= 0)
        {
            resolved[unknown] = 1;
            var known = ShapeUtil.Count(resolved);
            resolved[unknown] = known == 0 ? 0 : x.Length / known;
        }

        if (ShapeUtil.Count(resolved) != x.Length)
        {
            throw new ArgumentException($"reshape: cannot view {ShapeUtil.Format(x.Shape)} ({x.Length} elements) as {ShapeUtil.Format(shape)}");
        }

        var y = new Tensor(x.Storage, resolved);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                AccumulateGrad(x, gy);
            }
        }, x);
        return y;
    }

    /// <summary>Reorders dimensions: result dimension i is input dimension perm[i] (a copy).</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        if (perm.Length != x.Rank || perm.Distinct().Count() != perm.Length || perm.Any(p => p < 0 || p >= x.Rank))
        {
            throw new ArgumentException($"permute: [{string.Join(",", perm)}] is not a permutation of the {x.Rank} dimensions of {ShapeUtil.Format(x.Shape)}");
        }

        var be = BackendOf(x);
        var shape = perm.Select(p => x.Size(p)).ToArray();
        var y = be.Empty(shape);
        if (y.Length > 0)
        {
            be.Permute(x, perm, y, accumulate: false);
        }

        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad && gy.Length > 0)
            {
                var inverse = new int[perm.Length];
                for (var i = 0; i < perm.Length; i++)
                {
                    inverse[perm[i]] = i;
                }

                be.Permute(gy, inverse, x.GradOrZeros(), accumulate: true);
            }
        }, x);
        return y;
    }

    /// <summary>Swaps two dimensions (a copy).</summary>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        var (a, b) = (ShapeUtil.Axis(axis0, x.Rank), ShapeUtil.Axis(axis1, x.Rank));
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(x, perm);
    }

    /// <summary>The entries start..start+length−1 of <paramref name="axis"/> (a copy).</summary>
    public static Tensor Slice(Tensor x, int axis, int start, int length)
    {
        var ax = ShapeUtil.Axis(axis, x.Rank);
        var len = x.Size(ax);
        if (start < 0 || length < 0 || start + length > len)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"slice: [{start}, {start + length}) is outside axis {ax} of {ShapeUtil.Format(x.Shape)}");
        }

        var be = BackendOf(x);
        var (outer, inner) = ShapeUtil.Split(x.Shape, ax);
        var y = be.Empty(ShapeUtil.With(x.Shape, ax, length));
        be.CopyAlongAxis(x, outer, len, start, inner, y, length, 0, length, accumulate: false);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && x.RequiresGrad)
            {
                be.CopyAlongAxis(gy, outer, length, 0, inner, x.GradOrZeros(), len, start, length, accumulate: true);
            }
        }, x);
        return y;
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must agree.</summary>
    public static Tensor Concat(int axis, params Tensor[] parts)
    {
        if (parts.Length == 0)
        {
            throw new ArgumentException("concat: no tensors");
        }

        var first = parts[0];
        var ax = ShapeUtil.Axis(axis, first.Rank);
        var total = 0;
        foreach (var p in parts)
        {
            if (p.Rank != first.Rank || !Enumerable.Range(0, p.Rank).All(i => i == ax || p.Size(i) == first.Size(i)))
            {
                throw new ArgumentException($"concat: {ShapeUtil.Format(p.Shape)} does not match {ShapeUtil.Format(first.Shape)} outside axis {ax}");
            }

            SameDevice(first, p, "concat");
            total += p.Size(ax);
        }

        var be = BackendOf(first);
        var (outer, inner) = ShapeUtil.Split(first.Shape, ax);
        var y = be.Empty(ShapeUtil.With(first.Shape, ax, total));
        var at = 0;
        foreach (var p in parts)
        {
            be.CopyAlongAxis(p, outer, p.Size(ax), 0, inner, y, total, at, p.Size(ax), accumulate: false);
            at += p.Size(ax);
        }

        GradientTape.Record(y, () =>
        {
            if (y.Grad is not { } gy)
            {
                return;
            }

            var from = 0;
            foreach (var p in parts)
            {
                var len = p.Size(ax);
                if (p.RequiresGrad)
                {
                    be.CopyAlongAxis(gy, outer, total, from, inner, p.GradOrZeros(), len, 0, len, accumulate: true);
                }

                from += len;
            }
        }, parts);
        return y;
    }
}
