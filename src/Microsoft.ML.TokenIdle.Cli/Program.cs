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
return root.Parse(args).Invoke();
