namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Schema errors in ML.NET's fixed wording.</summary>
internal static class SchemaErrors
{
    public static ArgumentOutOfRangeException MissingColumn(string role, string name)
        => new(name, $"Could not find {role} column '{name}'");

    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, string actual)
        => new(name, $"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}");
}
