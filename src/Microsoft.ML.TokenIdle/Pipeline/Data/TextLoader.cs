using System.Globalization;
using System.Reflection;
using System.Text;

namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// Reads delimited text into rows of a class whose members carry <see cref="LoadColumnAttribute"/>
/// (ML.NET's <c>LoadFromTextFile&lt;TInput&gt;</c>); errors name the file, line and field.
/// </summary>
internal static class TextLoader
{
    public static List<TRow> Read<TRow>(string path, char separatorChar, bool hasHeader, bool allowQuoting, bool trimWhitespace)
        where TRow : class, new()
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"data file '{path}' not found", path);
        }

        var members = RowBinding.Members(typeof(TRow))
            .Select(m => (m.Member, m.MemberType, Index: m.Member.GetCustomAttribute<LoadColumnAttribute>()?.ColumnIndex))
            .ToList();
        var unmapped = members.FirstOrDefault(m => m.Index is null);
        if (unmapped.Member is not null)
        {
            throw new InvalidOperationException($"member '{unmapped.Member.Name}' of {typeof(TRow).Name} has no [LoadColumn] attribute");
        }

        var rows = new List<TRow>();
        var lines = File.ReadAllLines(path);
        for (var n = hasHeader ? 1 : 0; n < lines.Length; n++)
        {
            if (string.IsNullOrWhiteSpace(lines[n]))
            {
                continue;
            }

            var fields = Split(lines[n], separatorChar, allowQuoting);
            var row = new TRow();
            foreach (var (member, type, index) in members)
            {
                if (index!.Value >= fields.Count)
                {
                    throw new InvalidDataException($"'{path}' line {n + 1}: no field {index} for '{member.Name}' (the line has {fields.Count})");
                }

                var text = trimWhitespace ? fields[index.Value].Trim() : fields[index.Value];
                RowBinding.Set(member, row, Convert(text, type, path, n + 1, member.Name));
            }

            rows.Add(row);
        }

        return rows;
    }

    private static object? Convert(string text, Type type, string path, int line, string member)
    {
        if (type == typeof(string))
        {
            return text;
        }

        try
        {
            return type == typeof(bool) ? bool.Parse(text) : System.Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"'{path}' line {line}: '{text}' is not a {type.Name} for '{member}'");
        }
    }

    private static List<string> Split(string line, char separator, bool allowQuoting)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (allowQuoting && c == '"')
            {
                if (quoted && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else
                {
                    quoted = !quoted;
                }
            }
            else if (c == separator && !quoted)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }
}
