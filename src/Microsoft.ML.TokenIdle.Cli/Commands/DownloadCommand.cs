using System.CommandLine;
using System.Text.Json;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle download</c>: a timm checkpoint of the Hugging Face Hub into the Hub cache (for later offline use,
/// <c>HF_HUB_OFFLINE=1</c>); prints one JSON line with the cached files and the architecture.
/// </summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var command = new Command("download", "fetch a timm checkpoint (--model ORG/NAME) into the Hugging Face cache; prints one JSON line");
        command.Options.Add(source.Model);
        command.Options.Add(source.Revision);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            var checkpoint = source.Checkpoint(result) ?? throw new ArgumentException("--model ORG/NAME (a Hub checkpoint, e.g. timm/deit_small_patch16_224.fb_in1k) is required");
            var c = checkpoint.Config;
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["model"] = checkpoint.ModelId,
                ["revision"] = checkpoint.Revision,
                ["config"] = checkpoint.ConfigPath,
                ["weights"] = checkpoint.WeightsPath,
                ["img_size"] = c.ImageSize,
                ["patch_size"] = c.PatchSize,
                ["embed_dim"] = c.EmbedDim,
                ["depth"] = c.Depth,
                ["num_heads"] = c.NumHeads,
                ["num_classes"] = c.NumClasses,
                ["interpolation"] = c.Interpolation,
            }));
            return 0;
        }));
        return command;
    }
}
