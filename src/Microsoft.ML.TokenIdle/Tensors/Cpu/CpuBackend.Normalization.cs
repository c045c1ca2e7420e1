using System.Numerics.Tensors;

namespace Microsoft.ML.TokenIdle.Tensors.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        var e = gamma.Length;
        var rows = x.Length / e;
        ParallelRanges(rows, e * 4, (r0, r1) =>
        {
            var xs = x.Data;
            var ys = y.Data;
            var g = gamma.Data;
            var bt = beta.Data;
            var ms = mean.Data;
            var rs = rstd.Data;
            for (var r = r0; r < r1; r++)
            {
                var xr = xs.Slice(r * e, e);
                var yr = ys.Slice(r * e, e);
                var mu = TensorPrimitives.Sum(xr) / e;
                TensorPrimitives.Subtract(xr, mu, yr);
                var variance = TensorPrimitives.SumOfSquares(yr) / e;
                var inv = 1f / MathF.Sqrt(variance + eps);
                TensorPrimitives.Multiply(yr, inv, yr);
                TensorPrimitives.FusedMultiplyAdd(yr, g, bt, yr);
                ms[r] = mu;
                rs[r] = inv;
            }
        });
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor? dx, Tensor? dgamma, Tensor? dbeta)
    {
        var e = gamma.Length;
        var rows = x.Length / e;
        // Each chunk's partial dγ/dβ, added in row order afterwards so that the sums do not depend on
        // which thread finishes first.
        var partials = new List<(int Start, float[]? Gamma, float[]? Beta)>();
        ParallelRanges(rows, e * 8, (r0, r1) =>
        {
            var xs = x.Data;
            var dys = dy.Data;
            var g = gamma.Data;
            var ms = mean.Data;
            var rs = rstd.Data;
            var xhat = new float[e];
            var gy = new float[e];
            var dgPart = dgamma is null ? null : new float[e];
            var dbPart = dbeta is null ? null : new float[e];
            for (var r = r0; r < r1; r++)
            {
                var dyr = dys.Slice(r * e, e);
                TensorPrimitives.Subtract(xs.Slice(r * e, e), ms[r], xhat);
                TensorPrimitives.Multiply(xhat, rs[r], xhat);
                if (dgPart is not null)
                {
                    TensorPrimitives.FusedMultiplyAdd(dyr, xhat, dgPart, dgPart);
                }

                if (dbPart is not null)
                {
                    TensorPrimitives.Add(dbPart, dyr, dbPart);
                }

                if (dx is null)
                {
                    continue;
                }

                // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ
                TensorPrimitives.Multiply(dyr, g, gy);
                var meanG = TensorPrimitives.Sum(gy) / e;
                var meanGx = TensorPrimitives.Dot(gy, xhat) / e;
                TensorPrimitives.MultiplyAdd(xhat, -meanGx, gy, gy);
                TensorPrimitives.Add(gy, -meanG, gy);
                var dxr = dx.Data.Slice(r * e, e);
                TensorPrimitives.MultiplyAdd(gy, rs[r], dxr, dxr);
            }

            lock (partials)
            {
                partials.Add((r0, dgPart, dbPart));
            }
        });
        foreach (var (_, dgPart, dbPart) in partials.OrderBy(p => p.Start))
        {
            if (dgPart is not null)
            {
                TensorPrimitives.Add(dgamma!.Data, dgPart, dgamma.Data);
            }

            if (dbPart is not null)
            {
                TensorPrimitives.Add(dbeta!.Data, dbPart, dbeta.Data);
            }
        }
    }
}
