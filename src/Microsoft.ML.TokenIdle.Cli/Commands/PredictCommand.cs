using System.CommandLine;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Serving;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle predict</c>: scores image files with an ML.NET model zip holding a ViT classifier (a pipeline
/// that loads images from a path column with <c>LoadImages</c> or <c>LoadRawImageBytes</c>) and prints one
/// JSON line per image: the predicted class, its probability and the top classes.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "ML.NET model zip saved with MLContext.Model.Save", Required = true };
        var top = new Option<int>("--top") { Description = "classes listed per image", DefaultValueFactory = _ => 3 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all)" };
        var skipUnreadable = DataSource.SkipUnreadableOption();
        var precision = new PrecisionSource();
        var method = new MethodSource();
        var images = new Argument<string[]>("images") { Description = "PNG or JPEG files", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "classify image files with a saved model zip (scored with its own method unless --method names another); one JSON line per image");
        command.Options.Add(model);
        command.Options.Add(top);
        command.Options.Add(threads);
        command.Options.Add(skipUnreadable);
        precision.AddTo(command, scoring: true);
        method.AddTo(command);
        command.Arguments.Add(images);
        command.SetAction(result => CommandRunner.Run(() =>
        {
            CommandRunner.SetThreads(result.GetValue(threads));
            var path = result.GetValue(model)!;
            var (context, transformer, schema, steps, classifier) = SavedModel.Load(path, precision.Parse(result)).WithMethodOf(result, method);
            var pathColumn = InputRows.ImagePathColumn(steps)
                ?? throw new InvalidDataException($"model '{path}' does not load images from a path column (no LoadImages or LoadRawImageBytes step); score it from code");
            if (schema is null)
            {
                throw new InvalidDataException($"model '{path}' was saved without an input schema");
            }

            var files = Readable(result.GetValue(images)!.Select(Path.GetFullPath), result.GetValue(skipUnreadable));
            IDataView rows;
            try
            {
                rows = InputRows.Create(context, schema, pathColumn, files);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"model '{path}': {e.Message}", e);
            }

            var scored = transformer.Transform(rows);
            using var cursor = scored.GetRowCursor(new[] { scored.Schema[classifier.ScoreColumnName] });
            var score = cursor.GetGetter<VBuffer<float>>(scored.Schema[classifier.ScoreColumnName]);
            VBuffer<float> probabilities = default;
            var k = Math.Clamp(result.GetValue(top), 1, classifier.ClassNames.Count);
            foreach (var file in files)
            {
                cursor.MoveNext();
                score(ref probabilities);
                var prediction = ImagePrediction.From(probabilities.DenseValues().ToArray(), classifier.ClassNames, k);
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["image"] = file,
                    ["predicted"] = prediction.Predicted,
                    ["probability"] = prediction.Probability,
                    ["top"] = prediction.Top,
                }));
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The files that decode (within the pixel limit), checked before ML.NET's LoadImages sees them, so that a bad
    /// file fails with its name, or with <paramref name="skip"/> is reported and left out.
    /// </summary>
    private static string[] Readable(IEnumerable<string> files, bool skip)
    {
        var readable = new List<string>();
        foreach (var file in files)
        {
            try
            {
                ImageDecoder.Load(file);
                readable.Add(file);
            }
            catch (Exception e) when (skip && e is InvalidDataException or FileNotFoundException)
            {
                Console.Error.WriteLine($"tokenidle: skipped {e.Message}");
            }
        }

        return readable.Count > 0 ? readable.ToArray() : throw new InvalidDataException("none of the images could be read");
    }
}
