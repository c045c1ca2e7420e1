using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Components;

namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>
/// A model zip loaded for serving: its whole saved pipeline scores encoded images the way <c>tokenidle predict</c>
/// scores files — through the model's own image loading (a path column read by <c>LoadImages</c>, for which each image
/// is written to a private folder for the time of its batch; or an encoded-bytes column, filled directly).
/// </summary>
internal sealed class ServedModel : IDisposable
{
    private readonly MLContext _context;
    private readonly ITransformer _model;
    private readonly DataViewSchema _inputSchema;
    private readonly ImageInput _input;
    private readonly string _imageFolder;

    private ServedModel(MLContext context, ITransformer model, DataViewSchema inputSchema, VisionTransformerClassifier classifier, ImageInput input, string imageFolder, FileSignature signature)
    {
        (_context, _model, _inputSchema, Classifier, _input, _imageFolder, Signature) = (context, model, inputSchema, classifier, input, imageFolder, signature);
    }

    /// <summary>The zip's classifier step.</summary>
    public VisionTransformerClassifier Classifier { get; }

    /// <summary>The zip's size and time when it was loaded.</summary>
    public FileSignature Signature { get; }

    /// <summary>Loads <paramref name="path"/> (its classifier in <paramref name="options"/>' precision, on its device).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a model zip, no classifier, no input schema, or images taken neither from a path nor from bytes.</exception>
    public static ServedModel Load(string path, BatchingPredictorOptions options, string imageFolder)
    {
        var signature = FileSignature.Of(path);
        var context = new MLContext { GpuDeviceId = options.GpuDeviceId, FallbackToCpu = options.FallbackToCpu };
        var model = ModelZip.Load(context, path, out var schema);
        try
        {
            var steps = TransformerSteps.Flatten(model).ToList();
            var classifier = steps.OfType<VisionTransformerClassifier>().FirstOrDefault()
                ?? throw new InvalidDataException($"model '{path}' has no ViT classifier step");
            var inputSchema = schema ?? throw new InvalidDataException($"model '{path}' was saved without an input schema (pass the training data's schema to MLContext.Model.Save)");
            var input = ImageInput.Of(steps, inputSchema, classifier, path);
            if (options.Precision is { } precision)
            {
                classifier.SetPrecision(precision);
            }

            return new ServedModel(context, model, inputSchema, classifier, input, imageFolder, signature);
        }
        catch
        {
            Dispose(model);
            throw;
        }
    }

    /// <summary>Class probabilities of each image (decodable: checked before), one row per image, in one pass of the pipeline.</summary>
    public float[][] Score(IReadOnlyList<byte[]> images)
    {
        var files = new List<string>();
        try
        {
            IDataView rows;
            if (_input.EncodedBytes)
            {
                rows = InputRows.Create(_context, _inputSchema, _input.Column, images);
            }
            else
            {
                foreach (var image in images)
                {
                    var file = Path.Combine(_imageFolder, Guid.NewGuid().ToString("N"));
                    files.Add(file);
                    File.WriteAllBytes(file, image);
                }

                rows = InputRows.Create(_context, _inputSchema, _input.Column, files);
            }

            var scored = _model.Transform(rows);
            var column = scored.Schema[Classifier.ScoreColumnName];
            using var cursor = scored.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> probabilities = default;
            var result = new float[images.Count][];
            for (var i = 0; i < result.Length && cursor.MoveNext(); i++)
            {
                getter(ref probabilities);
                result[i] = probabilities.DenseValues().ToArray();
            }

            return result;
        }
        finally
        {
            foreach (var file in files)
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Frees the model's native memory.</summary>
    public void Dispose() => Dispose(_model);

    private static void Dispose(ITransformer model)
    {
        foreach (var step in TransformerSteps.Flatten(model).OfType<IDisposable>())
        {
            step.Dispose();
        }
    }
}
