#!/usr/bin/env dotnet
#:package TorchSharp@0.107.0
#:package libtorch-cpu-linux-x64@2.10.0
#:property PublishAot=false
// The floor our library's overhead is measured against: DeiT-S written directly on TorchSharp (timm's structure,
// libtorch's scaled_dot_product_attention), none of the library's code, random weights and images. Prints one
// JSON line like `tokenidle bench`.
// usage: dotnet run eng/bench/bare-torchsharp-deit.cs -- BATCH THREADS SECONDS [train]
using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

var batch = int.Parse(args[0]);
var threads = int.Parse(args[1]);
var seconds = double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var train = args.Length > 3 && args[3] == "train";
set_num_threads(threads);
manual_seed(0);
var model = new Deit(384, 6, 12);
using var images = randn(batch, 3, 224, 224);
using var labels = arange(batch) % 1000;
model.train(train);
var optimizer = train ? optim.AdamW(model.parameters(), 1e-4, weight_decay: 0.05) : null;

void Step()
{
    using var scope = NewDisposeScope();
    if (optimizer is null)
    {
        using var _ = no_grad();
        model.forward(images);
        return;
    }

    optimizer.zero_grad();
    nn.functional.cross_entropy(model.forward(images), labels).backward();
    optimizer.step();
}

Step();
var passes = 0;
var watch = Stopwatch.StartNew();
while (watch.Elapsed.TotalSeconds < seconds)
{
    Step();
    passes++;
}

var elapsed = watch.Elapsed.TotalSeconds;
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["mode"] = train ? "train" : "inference", ["framework"] = "bare TorchSharp 0.107.0", ["batch"] = batch, ["threads"] = get_num_threads(),
    ["passes"] = passes, ["seconds"] = Math.Round(elapsed, 3), ["images_per_second"] = Math.Round(passes * batch / elapsed, 2),
}));

sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly Linear qkv, proj, fc1, fc2;
    private readonly int heads;

    public Block(int dim, int heads) : base(nameof(Block))
    {
        this.heads = heads;
        norm1 = nn.LayerNorm(dim, 1e-6);
        qkv = nn.Linear(dim, 3 * dim);
        proj = nn.Linear(dim, dim);
        norm2 = nn.LayerNorm(dim, 1e-6);
        fc1 = nn.Linear(dim, 4 * dim);
        fc2 = nn.Linear(4 * dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (b, n, c) = (x.shape[0], x.shape[1], x.shape[2]);
        var parts = qkv.forward(norm1.forward(x)).reshape(b, n, 3, heads, c / heads).permute(2, 0, 3, 1, 4);
        var attended = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]);
        x = x + proj.forward(attended.transpose(1, 2).reshape(b, n, c));
        return x + fc2.forward(nn.functional.gelu(fc1.forward(norm2.forward(x))));
    }
}

sealed class Deit : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d patch_embed;
    private readonly Parameter cls_token, pos_embed;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public Deit(int dim, int heads, int depth) : base(nameof(Deit))
    {
        patch_embed = nn.Conv2d(3, dim, 16, stride: 16);
        cls_token = nn.Parameter(zeros(1, 1, dim));
        pos_embed = nn.Parameter(randn(1, 197, dim) * 0.02);
        blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(_ => new Block(dim, heads)).ToArray());
        norm = nn.LayerNorm(dim, 1e-6);
        head = nn.Linear(dim, 1000);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images)
    {
        var x = patch_embed.forward(images).flatten(2).transpose(1, 2);
        x = cat(new[] { cls_token.expand(x.shape[0], -1, -1), x }, 1) + pos_embed;
        foreach (var block in blocks)
        {
            x = block.forward(x);
        }

        return head.forward(norm.forward(x[.., 0]));
    }
}
