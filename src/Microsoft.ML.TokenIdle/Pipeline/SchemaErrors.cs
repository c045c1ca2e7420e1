namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Schema errors in ML.NET's fixed wording.</summary>
internal static class SchemaErrors
{
    public static ArgumentOutOfRangeException MissingColumn(string role, string name)
        => new(name, $"Could not find {role} column '{name}'");

    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, string actual)
        => new(name, $"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}");

    public static InvalidOperationException InactiveColumn(DataViewSchema.Column column)
        => new($"column '{column.Name}' was not requested when the cursor was made");

    public static InvalidOperationException InvalidGetterType(Type requested, Type expected)
        => new($"Invalid TValue in GetGetter: '{requested}', expected type: '{expected}'.");
}
