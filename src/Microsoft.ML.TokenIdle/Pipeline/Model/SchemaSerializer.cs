using System.Text.Json.Nodes;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Model;

/// <summary>A schema's column names and types as JSON (annotations are not kept: input schemas of raw data have none).</summary>
internal static class SchemaSerializer
{
    public static JsonNode ToJson(DataViewSchema? schema)
        => schema is null ? new JsonObject { ["columns"] = null } : new JsonObject { ["columns"] = new JsonArray(schema.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = Type(c.Type) }).ToArray()) };

    public static DataViewSchema? FromJson(JsonNode? json)
    {
        if (json?["columns"] is not JsonArray columns)
        {
            return null;
        }

        var builder = new DataViewSchema.Builder();
        foreach (var column in columns)
        {
            builder.AddColumn(column!["name"]!.GetValue<string>(), Type(column["type"]!));
        }

        return builder.ToSchema();
    }

    public static JsonNode Type(DataViewType type) => type switch
    {
        KeyDataViewType key => new JsonObject { ["kind"] = "key", ["count"] = key.Count },
        VectorDataViewType vector => new JsonObject { ["kind"] = "vector", ["item"] = Type(vector.ItemType), ["dims"] = new JsonArray(vector.Dimensions.Select(d => (JsonNode)d).ToArray()) },
        ImageDataViewType image => new JsonObject { ["kind"] = "image", ["height"] = image.Height, ["width"] = image.Width },
        TextDataViewType => "String",
        BooleanDataViewType => "Boolean",
        _ => type.RawType.Name,
    };

    public static DataViewType Type(JsonNode json)
    {
        if (json is JsonValue value)
        {
            var name = value.GetValue<string>();
            return Primitive(name) ?? throw new InvalidDataException($"unknown column type '{name}'");
        }

        return json["kind"]?.GetValue<string>() switch
        {
            "key" => new KeyDataViewType(typeof(uint), json["count"]!.GetValue<ulong>()),
            "vector" => new VectorDataViewType((PrimitiveDataViewType)Type(json["item"]!), json["dims"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray()),
            "image" => new ImageDataViewType(json["height"]!.GetValue<int>(), json["width"]!.GetValue<int>()),
            var kind => throw new InvalidDataException($"unknown column type kind '{kind}'"),
        };
    }

    public static PrimitiveDataViewType? Primitive(string name) => name switch
    {
        "String" => TextDataViewType.Instance,
        "Boolean" => BooleanDataViewType.Instance,
        _ => new[] { NumberDataViewType.Single, NumberDataViewType.Double, NumberDataViewType.Byte, NumberDataViewType.Int32, NumberDataViewType.UInt32, NumberDataViewType.Int64 }.FirstOrDefault(t => t.RawType.Name == name),
    };
}
