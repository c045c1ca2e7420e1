using Microsoft.ML.TokenIdle.Pipeline.Transforms;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Data transforms (ML.NET's <c>MLContext.Transforms</c>); components add extension methods to it and its sub-catalogs.</summary>
public sealed class TransformsCatalog
{
    internal TransformsCatalog(MLContext context)
    {
        Context = context;
        Conversion = new ConversionTransforms(context);
    }

    /// <summary>Label and type conversions (keys ↔ values).</summary>
    public ConversionTransforms Conversion { get; }

    internal MLContext Context { get; }

    /// <summary>Conversions between types (ML.NET's <c>TransformsCatalog.ConversionTransforms</c>).</summary>
    public sealed class ConversionTransforms
    {
        internal ConversionTransforms(MLContext context) => Context = context;

        internal MLContext Context { get; }
    }
}

/// <summary>The key-mapping entry points (ML.NET's <c>ConversionsExtensionsCatalog</c>); the output column name comes first.</summary>
public static class ConversionsExtensionsCatalog
{
    /// <summary>Learns the values of <paramref name="inputColumnName"/> and maps them to keys 1..N in <paramref name="outputColumnName"/>.</summary>
    public static ValueToKeyMappingEstimator MapValueToKey(this TransformsCatalog.ConversionTransforms catalog, string outputColumnName, string? inputColumnName = null,
        int maximumNumberOfKeys = 1_000_000, ValueToKeyMappingEstimator.KeyOrdinality keyOrdinality = ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence,
        bool addKeyValueAnnotationsAsText = false, IDataView? keyData = null)
        => new(outputColumnName, inputColumnName, maximumNumberOfKeys, keyOrdinality, addKeyValueAnnotationsAsText, keyData);

    /// <summary>Maps the keys of <paramref name="inputColumnName"/> back to their values in <paramref name="outputColumnName"/>.</summary>
    public static KeyToValueMappingEstimator MapKeyToValue(this TransformsCatalog.ConversionTransforms catalog, string outputColumnName, string? inputColumnName = null)
        => new(outputColumnName, inputColumnName);
}
