using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Visualization;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle plot</c>: the trade-off figures of an experiment's <c>results.jsonl</c>
/// (eng/fashion-mnist/run-experiment.sh): top-1 against GMACs and against images/s, one line per method
/// from the full backbone through k = 0.9, 0.7, 0.5 (finetuned solid, without finetuning dashed), as PNG and SVG.
/// </summary>
internal static class PlotCommand
{
    // Each method's rates in the experiment (eng/fashion-mnist/run-experiment.sh): keep ratios; ToMe's pairs merged per layer.
    private static readonly (string Key, string Name, (byte, byte, byte) Colour, string[] Rates)[] Methods =
    {
        ("evit-fuse", "EViT (fuse)", (31, 119, 180), new[] { "0.9", "0.7", "0.5" }),
        ("idle", "IdleViT", (214, 39, 40), new[] { "0.9", "0.7", "0.5" }),
        ("life", "Life regr.", (44, 160, 44), new[] { "0.9", "0.7", "0.5" }),
        ("tome", "ToMe", (148, 103, 189), new[] { "1", "2", "3", "4" }),
    };

    public static Command Create()
    {
        var results = new Option<string>("--results") { Description = "results.jsonl written by eng/fashion-mnist/run-experiment.sh", Required = true };
        var output = new Option<string>("--output") { Description = "folder for tradeoff-gmacs.png/.svg and tradeoff-throughput.png/.svg", Required = true };
        var title = new Option<string>("--title") { Description = "plot title prefix", DefaultValueFactory = _ => "Fashion-MNIST ViT" };
        var command = new Command("plot", "draw accuracy vs GMACs and accuracy vs images/s trade-off plots from an experiment's results.jsonl");
        command.Options.Add(results);
        command.Options.Add(output);
        command.Options.Add(title);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            var path = result.GetValue(results)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"results file '{path}' not found", path);
            }

            var rows = new Dictionary<string, JsonElement>();
            foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l, i + 1)).Where(p => !string.IsNullOrWhiteSpace(p.l)))
            {
                try
                {
                    var row = JsonDocument.Parse(line).RootElement;
                    rows[row.GetProperty("key").GetString()!] = row;
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException)
                {
                    throw new InvalidDataException($"'{path}' line {number}: not a result line with a \"key\" ({e.Message})");
                }
            }

            var backbone = rows.TryGetValue("backbone", out var b) ? b : throw new InvalidDataException($"'{path}' has no backbone result");
            double Top1(JsonElement row) => row.GetProperty("top1").GetDouble() * 100;

            // The experiment benchmarks every model in rounds (key bench.MODEL.ROUND); the plot takes the median.
            double? Speed(string model)
            {
                var keyStart = $"bench.{model}.";
                var speeds = rows.Where(p => p.Key.StartsWith(keyStart, StringComparison.Ordinal) && int.TryParse(p.Key.AsSpan(keyStart.Length), out _))
                    .Select(p => p.Value.GetProperty("images_per_second").GetDouble()).Order().ToArray();
                var middle = speeds.Length / 2;
                return speeds.Length == 0 ? null : speeds.Length % 2 == 1 ? speeds[middle] : (speeds[middle - 1] + speeds[middle]) / 2;
            }

            var prefix = result.GetValue(title)!;
            var folder = Directory.CreateDirectory(result.GetValue(output)!).FullName;
            var figures = new[]
            {
                ("tradeoff-gmacs", $"{prefix}: top-1 vs GMACs", "GMACs per image", (Func<string, string, double?>)((method, k) => rows.TryGetValue($"nofinetune.{method}.{k}", out var r) ? r.GetProperty("gmacs").GetDouble() : null), backbone.GetProperty("gmacs").GetDouble()),
                ("tradeoff-throughput", $"{prefix}: top-1 vs CPU images/s", "images per second (2 threads)", (method, k) => Speed($"{method}.{k}"), Speed("full") ?? double.NaN),
            };
            foreach (var (name, heading, xLabel, cost, fullCost) in figures)
            {
                var series = new List<PlotSeries>();
                foreach (var (key, label, colour, rates) in Methods)
                {
                    foreach (var (stage, dashed, suffix) in new[] { ("finetune", false, string.Empty), ("nofinetune", true, " (no ft)") })
                    {
                        var points = new List<(double, double)>();
                        if (double.IsFinite(fullCost))
                        {
                            points.Add((fullCost, Top1(backbone)));
                        }

                        foreach (var k in rates)
                        {
                            if (cost(key, k) is { } x && rows.TryGetValue($"{stage}.{key}.{k}", out var row))
                            {
                                points.Add((x, Top1(row)));
                            }
                        }

                        if (points.Count > 1)
                        {
                            series.Add(new PlotSeries(label + suffix, points, colour, dashed));
                        }
                    }
                }

                if (series.Count == 0)
                {
                    throw new InvalidDataException($"'{path}' has no method results to plot for {name}");
                }

                PngEncoder.Save(TradeoffPlot.RenderPng(heading, xLabel, "top-1 (%)", series), Path.Combine(folder, name + ".png"));
                AtomicFile.Write(Path.Combine(folder, name + ".svg"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(TradeoffPlot.RenderSvg(heading, xLabel, "top-1 (%)", series))));
                Console.WriteLine(Path.Combine(folder, name + ".png"));
            }

            return 0;
        }));
        return command;
    }
}
