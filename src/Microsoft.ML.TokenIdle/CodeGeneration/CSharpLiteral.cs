using System.Collections;
using System.Globalization;

namespace Microsoft.ML.TokenIdle.CodeGeneration;

/// <summary>C# source text for the values generated code passes: strings, numbers, booleans, enums, arrays, backbones.</summary>
internal static class CSharpLiteral
{
    /// <summary>The literal of <paramref name="value"/> (an enum as <c>Type.Member</c>, flags joined with <c>|</c>).</summary>
    /// <exception cref="NotSupportedException">A value of another type.</exception>
    public static string Of(object? value) => value switch
    {
        null => "null",
        string text => "@\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
        bool flag => flag ? "true" : "false",
        float single => single.ToString("R", CultureInfo.InvariantCulture) + "f",
        double number => Number(number),
        int or long or uint or ulong or byte => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        Enum member => Enum(member),
        Backbone backbone => Backbone(backbone),
        IEnumerable items when value.GetType() != typeof(string) => Array(items),
        _ => throw new NotSupportedException($"no C# literal for a {value.GetType().Name}"),
    };

    // A backbone as the factory that names it.
    private static string Backbone(Backbone backbone) => backbone.Source switch
    {
        BackboneSource.HubModel => $"Backbone.HubModel({Of(backbone.ModelId)}{(backbone.Revision is null ? string.Empty : $", {Of(backbone.Revision)}")})",
        BackboneSource.Files => $"Backbone.Files({Of(backbone.ConfigPath)}{(backbone.WeightsPath is null ? string.Empty : $", {Of(backbone.WeightsPath)}")})",
        BackboneSource.Architecture => $"Backbone.RandomlyInitialised({Of(backbone.Architecture)}){(backbone.WeightsPath is null ? string.Empty : $" with {{ WeightsPath = {Of(backbone.WeightsPath)} }}")}",
        BackboneSource.FashionMnist => "Backbone.FashionMnist",
        _ => throw new NotSupportedException($"no C# literal for backbone source {backbone.Source}"),
    };

    private static string Number(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + "d";
    }

    private static string Enum(Enum member)
    {
        var type = member.GetType();
        var name = type.IsNested ? $"{type.DeclaringType!.Name}.{type.Name}" : type.Name;
        return string.Join(" | ", member.ToString().Split(", ").Select(part => $"{name}.{part}"));
    }

    private static string Array(IEnumerable items)
    {
        var values = items.Cast<object?>().ToList();
        var element = items.GetType().IsArray ? items.GetType().GetElementType()! : items.GetType().GetGenericArguments().FirstOrDefault() ?? typeof(object);
        var typeName = element == typeof(double) ? "double" : element == typeof(int) ? "int" : element == typeof(float) ? "float" : element == typeof(string) ? "string" : element.Name;
        return $"new {typeName}[] {{ {string.Join(", ", values.Select(Of))} }}";
    }
}
