using Microsoft.ML.TokenIdle.Pipeline.Model;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Saving, loading and single-row prediction (ML.NET's <c>MLContext.Model</c>).</summary>
public sealed class ModelOperationsCatalog
{
    private readonly MLContext _context;

    internal ModelOperationsCatalog(MLContext context) => _context = context;

    /// <summary>Writes <paramref name="model"/> and the schema of the data it expects to a model zip, atomically (no half-written file on failure).</summary>
    public void Save(ITransformer model, DataViewSchema? inputSchema, string filePath)
        => Serialization.AtomicFile.Write(filePath, stream => ModelFormat.Save(model, inputSchema, stream));

    /// <summary>Writes a model zip to <paramref name="stream"/>.</summary>
    public void Save(ITransformer model, DataViewSchema? inputSchema, Stream stream) => ModelFormat.Save(model, inputSchema, stream);

    /// <summary>Reads a model zip (load only trusted files); <paramref name="inputSchema"/> is the saved schema, or null.</summary>
    /// <exception cref="InvalidDataException">Truncated, altered or from an unknown component; the message names the file and the entry.</exception>
    public ITransformer Load(string filePath, out DataViewSchema? inputSchema)
    {
        if (!File.Exists(filePath))
        {
            throw new FileNotFoundException($"model file '{filePath}' not found", filePath);
        }

        using var stream = File.OpenRead(filePath);
        return ModelFormat.Load(stream, filePath, _context, out inputSchema);
    }

    /// <summary>A single-example scorer (not thread-safe; see <see cref="PredictionEnginePool{TSrc, TDst}"/>).</summary>
    public PredictionEngine<TSrc, TDst> CreatePredictionEngine<TSrc, TDst>(ITransformer transformer, bool ignoreMissingColumns = true)
        where TSrc : class
        where TDst : class, new() => new(transformer, ignoreMissingColumns, ownsTransformer: true);

    /// <summary>A single-example scorer with <paramref name="options"/>.</summary>
    public PredictionEngine<TSrc, TDst> CreatePredictionEngine<TSrc, TDst>(ITransformer transformer, PredictionEngineOptions options)
        where TSrc : class
        where TDst : class, new() => new(transformer, options.IgnoreMissingColumns, options.OwnsTransformer);

    /// <summary>Reads a model zip from a stream.</summary>
    public ITransformer Load(Stream stream, out DataViewSchema? inputSchema) => ModelFormat.Load(stream, "stream", _context, out inputSchema);
}
