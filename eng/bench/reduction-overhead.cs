#!/usr/bin/env dotnet
#:project ../../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:package libtorch-cpu-linux-x64@2.10.0
#:property PublishAot=false
// What a method costs per reducing layer beyond the block's own work. For each reducing layer of DeiT-S (random
// weights, scoring, no trace) it times, alternating, (a) the method's step, ITokenReduction.Run, on the tokens that
// reach that layer and (b) the floor: the same block's attention and MLP on the token counts the method leaves
// them (LayerTokenCounts), as plain contiguous tensors. Overhead = (a) − (b): scoring, top-k, index bookkeeping,
// gathers, scatters, fusion. Prints one JSON line per method with the median (min–max over rounds) per layer.
// On a shared 2-vCPU machine (a) and (b) move by ±10 ms between rounds, so compare versions one METHOD per process.
// With `parts` instead of methods: the profile of one IdleViT layer (layer 4 of DeiT-S, k = 137 of 196 patches) split
// into its operations, each timed alone (ROUNDS × REPEATS), including the element-wise gather/scatter that row copies
// (index_select / index_copy over the flattened batch) replaced.
// usage: dotnet run eng/bench/reduction-overhead.cs -- BATCH THREADS ROUNDS REPEATS [METHOD...|parts]
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

var batch = int.Parse(args[0]);
var threads = int.Parse(args[1]);
var rounds = int.Parse(args[2]);
var repeats = int.Parse(args[3]);
var methods = args.Length > 4 ? args[4..] : new[] { "evit", "evit-fuse", "idle", "life" };
set_num_threads(threads);
var config = VisionTransformerConfig.DeitSmall;
using var model = new VisionTransformer(config, seed: 0);
model.eval();
using var noGrad = no_grad();
manual_seed(0);
using var images = randn(batch, 3, config.ImageSize, config.ImageSize);

if (methods is ["parts"])
{
    Parts();
    return;
}

foreach (var name in methods)
{
    var method = TokenReductionMethods.Parse(name);
    var predictor = method == TokenReductionMethod.Life ? new LifePredictor(config.EmbedDim, config.LayerNormEps) : null;
    var strategy = TokenReductionMethods.Create(method, config, 0.7, predictor: predictor)!;
    strategy.PlaceWith(model);
    var plan = strategy.Plan(config);

    // The state entering every block, from one reduced pass.
    var states = new List<TokenState>();
    var state = TokenState.FromEmbedding(model.Embed(images));
    for (var layer = 0; layer < model.Blocks.Count; layer++)
    {
        state = strategy.Selector.Prepare(layer, state);
        states.Add(state);
        state = strategy.Reduction.Run(model.Blocks[layer], layer, strategy.Schedule.Ratios[layer], state, strategy.Selector, null);
    }

    var layers = Enumerable.Range(0, plan.Count).Where(l => plan[l].Reducing).ToList();
    var run = layers.ToDictionary(l => l, _ => new List<double>());
    var floor = layers.ToDictionary(l => l, _ => new List<double>());
    for (var round = 0; round < rounds; round++)
    {
        foreach (var layer in layers)
        {
            var (block, input, counts) = (model.Blocks[layer], states[layer], plan[layer]);
            using var attentionInput = input.Tokens[.., ..counts.AttentionTokens].contiguous();
            using var mlpInput = input.Tokens[.., ..counts.MlpTokens].contiguous();
            double Time(Action step)
            {
                step();
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < repeats; i++)
                {
                    using var scope = NewDisposeScope();
                    step();
                }

                return watch.Elapsed.TotalMilliseconds / repeats;
            }

            var steps = new (List<double> Into, Action Step)[]
            {
                (run[layer], () => strategy.Reduction.Run(block, layer, strategy.Schedule.Ratios[layer], input, strategy.Selector, null)),
                (floor[layer], () => { block.AttentionResidual(attentionInput); block.MlpResidual(mlpInput); }),
            };
            foreach (var (into, step) in round % 2 == 0 ? steps : steps.Reverse())
            {
                into.Add(Time(step));
            }
        }
    }

    Console.WriteLine(JsonSerializer.Serialize(new
    {
        method = name,
        keep_rate = 0.7,
        batch,
        threads,
        rounds,
        repeats,
        layers = layers.Select(l => new
        {
            layer = l,
            tokens_in = plan[l].TokensIn,
            run_ms = Summary(run[l]),
            floor_ms = Summary(floor[l]),
            overhead_ms = Summary(run[l].Zip(floor[l], (a, b) => a - b)),
        }),
        overhead_ms_per_pass = Summary(Enumerable.Range(0, rounds).Select(r => layers.Sum(l => run[l][r] - floor[l][r]))),
    }));
}

static object Summary(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return new { median = Math.Round(sorted[sorted.Length / 2], 3), min = Math.Round(sorted[0], 3), max = Math.Round(sorted[^1], 3) };
}

void Parts()
{
    var strategy = TokenReductionMethods.Create(TokenReductionMethod.Idle, config, 0.7)!;
    const int layer = 4;
    var block = model.Blocks[layer];
    var state = TokenState.FromEmbedding(model.Embed(images));
    for (var l = 0; l < layer; l++)
    {
        state = strategy.Reduction.Run(model.Blocks[l], l, strategy.Schedule.Ratios[l], state, strategy.Selector, null);
    }

    var (x, b, n, e) = (state.Tokens, batch, state.Count, config.EmbedDim);
    var k = strategy.Reduction.KeptCount(strategy.Schedule.Ratios[layer], n - 1);
    var normed = block.Norm1.forward(x);
    var scores = strategy.Selector.Score(layer, state, normed, block.Attn);
    var positions = TokenState.WithClassToken(scores.topk(k, 1, true, true).indexes);
    var rows = positions.unsqueeze(-1).expand(-1, -1, e);
    var flat = (positions + arange(b, dtype: ScalarType.Int64).unsqueeze(1) * n).flatten();
    var selected = x.reshape(-1, e).index_select(0, flat).reshape(b, k + 1, e);
    var attended = block.Attn.forward(selected);
    var active = block.MlpResidual(block.Residual(selected, attended));
    var parts = new (string Name, Func<Tensor> Step)[]
    {
        ("norm1 over all tokens", () => block.Norm1.forward(x)),
        ("score (class query · keys)", () => strategy.Selector.Score(layer, state, normed, block.Attn)),
        ("top-k", () => scores.topk(k, 1, true, true).indexes),
        ("positions with the class token", () => TokenState.WithClassToken(scores.topk(k, 1, true, true).indexes)),
        ("row index b·N + position (made once per layer; three times before)", () => (positions + arange(b, dtype: ScalarType.Int64).unsqueeze(1) * n).flatten()),
        ("rows: element-wise gather (before)", () => x.gather(1, rows)),
        ("rows: index_select (after)", () => x.reshape(-1, e).index_select(0, flat).reshape(b, k + 1, e)),
        ("write back: scatter (before)", () => x.scatter(1, rows, active)),
        ("write back: index_copy (after)", () => x.reshape(-1, e).index_copy(0, flat, active.reshape(-1, e)).reshape(b, n, e)),
        ("attention on 1+k tokens", () => block.Attn.forward(selected)),
        ("MLP on 1+k tokens", () => block.MlpResidual(block.Residual(selected, attended))),
        ("whole idle layer (Run)", () => strategy.Reduction.Run(block, layer, strategy.Schedule.Ratios[layer], state, strategy.Selector, null).Tokens),
    };
    var times = parts.ToDictionary(p => p.Name, _ => new List<double>());
    for (var round = 0; round < rounds; round++)
    {
        foreach (var (name, step) in round % 2 == 0 ? parts : parts.Reverse())
        {
            step();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < repeats; i++)
            {
                using var scope = NewDisposeScope();
                step();
            }

            times[name].Add(watch.Elapsed.TotalMilliseconds / repeats);
        }
    }

    Console.WriteLine(JsonSerializer.Serialize(new { profile = "idle layer 4", tokens = n, kept = k, batch, threads, rounds, repeats, parts = parts.Select(p => new { part = p.Name, ms = Summary(times[p.Name]) }) }));
}
