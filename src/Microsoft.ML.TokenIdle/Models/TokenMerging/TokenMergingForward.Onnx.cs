using System.Globalization;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using static Microsoft.ML.TokenIdle.Serialization.OnnxGraph;

namespace Microsoft.ML.TokenIdle.Models.TokenMerging;

/// <summary>
/// Token merging's ONNX piece. Every token count is fixed by the schedule, so the matching is written with static
/// shapes: the metric's even and odd tokens (strided Slice), their cosine similarities (MatMul), the class token's row
/// masked to −∞, each even token's best match (ReduceMax, ArgMax), the r best (TopK), the kept ones back in position
/// order (TopK ascending), and the merge as a product with the destinations' one-hot matrix — the x·size channels and
/// the size channel merged together, then divided.
/// </summary>
public sealed partial class TokenMergingForward : IOnnxReducedForward
{
    /// <inheritdoc/>
    OnnxTokens IOnnxReducedForward.WriteBlocks(IOnnxNetworkWriter writer, VisionTransformer model, OnnxTokens tokens)
    {
        Plan(model.Config);
        string? size = null; // [B, N, 1]; null while every token is one patch
        for (var layer = 0; layer < model.Blocks.Count; layer++)
        {
            var block = model.Blocks[layer];
            var prefix = string.Create(CultureInfo.InvariantCulture, $"blocks.{layer}.");
            var n = tokens.Count;
            var r = Schedule.MergedAt(layer, (int)n);
            var keyBias = ProportionalAttention && size is not null ? KeyBias(writer, size) : null;
            var (attention, keys) = writer.AttentionWithKeys(writer.LayerNorm(tokens.X, block.Norm1, prefix + "norm1."), block.Attn, prefix + "attn.", n, keyBias);
            var x = writer.Graph.Op("Add", new[] { tokens.X, attention });
            if (r > 0)
            {
                (x, size) = Merge(writer, x, size, keys, n, r);
                n -= r;
            }

            tokens = new OnnxTokens(writer.MlpResidual(x, block, prefix), n);
        }

        return tokens;
    }

    /// <summary>log(size) [B, N, 1] as attention's key bias [B, 1, 1, N].</summary>
    private static string KeyBias(IOnnxNetworkWriter writer, string size)
    {
        var g = writer.Graph;
        return g.Op("Unsqueeze", new[] { g.Op("Transpose", new[] { g.Op("Log", new[] { size }) }, Ints("perm", 0, 2, 1)), g.Int64s(1) });
    }

    /// <summary>x [B, n, E] and size after merging r pairs matched on <paramref name="keys"/> [B, n, d]: [B, n − r, E] and [B, n − r, 1].</summary>
    private static (string X, string Size) Merge(IOnnxNetworkWriter writer, string x, string? size, string keys, long n, long r)
    {
        var g = writer.Graph;
        var (evens, odds) = ((n + 1) / 2, n / 2);
        string Evens(string v) => g.Op("Slice", new[] { v, g.Int64s(0), g.Int64s(n), g.Int64s(1), g.Int64s(2) });
        string Odds(string v) => g.Op("Slice", new[] { v, g.Int64s(1), g.Int64s(n), g.Int64s(1), g.Int64s(2) });

        // The matching: cosine similarity of each even token to each odd one; the class token (even 0) never merges.
        var metric = g.Op("Div", new[] { keys, writer.ReduceL2(keys, -1, keep: true) });
        var scores = g.Op("MatMul", new[] { Evens(metric), g.Op("Transpose", new[] { Odds(metric) }, Ints("perm", 0, 2, 1)) });
        var classRow = Enumerable.Range(0, (int)evens).Select(i => i == 0 ? float.NegativeInfinity : 0f).ToArray();
        scores = g.Op("Add", new[] { scores, g.Floats(classRow, evens, 1) });
        var best = writer.ReduceMax(scores, -1);
        var match = g.Op("ArgMax", new[] { scores }, Int("axis", -1), Int("keepdims", 0));
        var order = writer.TopK(best, evens);
        var merged = g.Op("Slice", new[] { order, g.Int64s(0), g.Int64s(r), g.Int64s(1) });
        var keptUnordered = g.Op("Cast", new[] { g.Op("Slice", new[] { order, g.Int64s(r), g.Int64s(evens), g.Int64s(1) }) }, Int("to", (long)global::Onnx.TensorProto.Types.DataType.Float));
        var kept = g.Op("Cast", new[] { g.Ops("TopK", 2, new[] { keptUnordered, g.Int64s(evens - r) }, Int("axis", 1), Int("largest", 0), Int("sorted", 1))[0] },
            Int("to", (long)global::Onnx.TensorProto.Types.DataType.Int64));
        var destination = g.Op("GatherElements", new[] { match, merged }, Int("axis", 1));

        // x·size and size side by side, [B, n, E + 1]: one merge sums both. Before the first merge every size is 1 (ones
        // of the batch's size made from one channel of x).
        var ones = size is null ? g.Op("Add", new[] { g.Op("Mul", new[] { g.Op("Slice", new[] { x, g.Int64s(0), g.Int64s(1), g.Int64s(-1) }), g.Float(0) }), g.Float(1) }) : null;
        var weighted = g.Op("Concat", new[] { size is null ? x : g.Op("Mul", new[] { x, size }), size ?? ones! }, Int("axis", -1));

        var width = writer.Width + 1;
        var evenRows = g.Op("Reshape", new[] { Evens(weighted), g.Int64s(-1, width) });
        var keptTokens = g.Op("Gather", new[] { evenRows, writer.Rows(kept, evens) }, Int("axis", 0));
        var sources = g.Op("Gather", new[] { evenRows, writer.Rows(merged, evens) }, Int("axis", 0));
        var oneHot = g.Op("Cast", new[] { g.Op("Equal", new[] { g.Op("Unsqueeze", new[] { destination, g.Int64s(-1) }), g.Op("Range", new[] { g.Int64(0), g.Int64(odds), g.Int64(1) }) }) },
            Int("to", (long)global::Onnx.TensorProto.Types.DataType.Float));
        var oddTokens = g.Op("Add", new[] { Odds(weighted), g.Op("MatMul", new[] { g.Op("Transpose", new[] { oneHot }, Ints("perm", 0, 2, 1)), sources }) });
        var all = g.Op("Concat", new[] { keptTokens, oddTokens }, Int("axis", 1));
        var newSize = g.Op("Slice", new[] { all, g.Int64s(writer.Width), g.Int64s(width), g.Int64s(2) });
        var sums = g.Op("Slice", new[] { all, g.Int64s(0), g.Int64s(writer.Width), g.Int64s(2) });
        return (g.Op("Div", new[] { sums, newSize }), newSize);
    }
}
