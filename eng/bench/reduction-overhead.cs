#!/usr/bin/env dotnet
#:project ../../src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj
#:package libtorch-cpu-linux-x64@2.10.0
#:property PublishAot=false
// What a method costs per reducing layer beyond the block's own work. For each reducing layer of DeiT-S (random
// weights, scoring, no trace) it times, alternating, (a) the method's step, ITokenReduction.Run, on the tokens that
// reach that layer and (b) the floor: the same block's attention and MLP on the token counts the method leaves
// them (LayerTokenCounts), as plain contiguous tensors. Overhead = (a) − (b): scoring, top-k, index bookkeeping,
// gathers, scatters, fusion. Prints one JSON line per method with the median (min–max over rounds) per layer.
// usage: dotnet run eng/bench/reduction-overhead.cs -- BATCH THREADS ROUNDS REPEATS [METHOD...]
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

    static object Summary(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return new { median = Math.Round(sorted[sorted.Length / 2], 3), min = Math.Round(sorted[0], 3), max = Math.Round(sorted[^1], 3) };
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
