using System.CommandLine;
using TokenIdle.Cli.Commands;

var root = new RootCommand("tokenidle: Vision Transformer token reduction (IdleViT, EViT, life regression) for .NET");
root.Subcommands.Add(InferCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(ExportOnnxCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(VisualizeCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(MacsCommand.Create());
root.Subcommands.Add(DownloadCommand.Create());
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // One line, as every other refusal, instead of System.CommandLine's errors followed by the whole help.
    var verb = string.Join(' ', parsed.CommandResult.Command == root ? ["tokenidle"] : ["tokenidle", parsed.CommandResult.Command.Name]);
    Console.Error.WriteLine($"tokenidle: error: {string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')).Distinct())} ({verb} --help lists the flags)");
    return 1;
}

return parsed.Invoke();
