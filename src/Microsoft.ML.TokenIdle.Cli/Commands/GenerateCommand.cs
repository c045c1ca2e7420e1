using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.TokenIdle.CodeGeneration;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle generate</c>: writes the consumption code Model Builder and the mlnet CLI generate for an ML.NET model
/// zip holding a ViT classifier (ModelInput, ModelOutput, a lazy PredictEngine, Predict, and BuildPipeline with the
/// trainer's saved options), a sample program and a project file, and with <c>--web-api</c> an ASP.NET Core web API
/// project beside it; prints one JSON line with the files.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "ML.NET model zip saved with MLContext.Model.Save", Required = true };
        var name = new Option<string>("--name") { Description = "the model class name (a C# identifier); NAMEApp names the namespace and project", Required = true };
        var output = new Option<string>("--output") { Description = "folder for the project (created)", Required = true };
        var library = new Option<string?>("--library") { Description = "reference Microsoft.ML.TokenIdle as this .csproj or .dll instead of its NuGet package" };
        var webApi = new Option<bool>("--web-api") { Description = "also write an ASP.NET Core web API (POST /predict, batched scoring) in OUTPUT/NAMEApp.WebApi" };
        var command = new Command("generate", "write Model Builder-style consumption and training code, a sample program and a project for a model zip");
        command.Options.Add(model);
        command.Options.Add(name);
        command.Options.Add(output);
        command.Options.Add(library);
        command.Options.Add(webApi);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            var path = result.GetValue(model)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"model '{path}' not found", path);
            }

            var files = ConsumptionProjectGenerator.Write(path, result.GetValue(name)!, result.GetValue(output)!, result.GetValue(library), result.GetValue(webApi));
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["files"] = files }));
            return 0;
        }));
        return command;
    }
}
