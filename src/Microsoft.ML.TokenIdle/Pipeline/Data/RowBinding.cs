using System.Reflection;

namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// The mapping between a row class's public fields/properties and columns, as ML.NET infers it:
/// the member name (or <see cref="ColumnNameAttribute"/>) is the column name; numbers, bool and string
/// map to their column types, arrays and <see cref="VBuffer{T}"/> to vectors (<see cref="VectorTypeAttribute"/>
/// gives a known size), <see cref="KeyTypeAttribute"/> makes a uint a key.
/// </summary>
internal static class RowBinding
{
    /// <summary>The schema-relevant members of <paramref name="type"/>.</summary>
    public static IReadOnlyList<(string Column, MemberInfo Member, Type MemberType)> Members(Type type)
        => type.GetMembers(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m is FieldInfo or PropertyInfo { CanRead: true } && m.GetCustomAttribute<NoColumnAttribute>() is null && !(m is PropertyInfo p && p.GetIndexParameters().Length > 0))
            .Select(m => (m.GetCustomAttribute<ColumnNameAttribute>()?.Name ?? m.Name, m, m is FieldInfo f ? f.FieldType : ((PropertyInfo)m).PropertyType))
            .ToList();

    /// <summary>
    /// The settable members of <paramref name="rowType"/> paired with the columns of <paramref name="schema"/>
    /// they read (ML.NET's strict binding: keys bind to uint only); <paramref name="source"/> names the schema in errors.
    /// </summary>
    /// <exception cref="InvalidOperationException">A member has no column (unless <paramref name="ignoreMissingColumns"/>) or one it cannot hold.</exception>
    public static List<(MemberInfo Member, Type Type, DataViewSchema.Column Column)> Bind(Type rowType, DataViewSchema schema, bool ignoreMissingColumns, string source)
    {
        var bound = new List<(MemberInfo, Type, DataViewSchema.Column)>();
        foreach (var (name, member, type) in Members(rowType))
        {
            if (member is PropertyInfo { CanWrite: false })
            {
                continue;
            }

            if (schema.GetColumnOrNull(name) is not { } column)
            {
                if (ignoreMissingColumns)
                {
                    continue;
                }

                throw new InvalidOperationException($"Column '{name}' not found in {source}");
            }

            if (!CanBind(column.Type, type))
            {
                throw new InvalidOperationException($"Can't bind the IDataView column '{name}' of type '{column.Type}' to field or property '{member.Name}' of type '{type.FullName}'.");
            }

            bound.Add((member, type, column));
        }

        return bound;
    }

    /// <summary>Fills a row object's bound members from <paramref name="row"/>'s current values.</summary>
    public static Action<object> Writer(DataViewRow row, IReadOnlyList<(MemberInfo Member, Type Type, DataViewSchema.Column Column)> bound)
    {
        var readers = bound.Select(b => ColumnReader.Create(row, b.Column)).ToArray();
        return target =>
        {
            for (var i = 0; i < readers.Length; i++)
            {
                Set(bound[i].Member, target, FromColumnValue(readers[i].Read(), bound[i].Type));
            }
        };
    }

    /// <summary>The column type a member of <paramref name="type"/> produces.</summary>
    /// <exception cref="InvalidOperationException">A member type with no column type.</exception>
    public static DataViewType ColumnType(MemberInfo member, Type type)
    {
        if (member.GetCustomAttribute<KeyTypeAttribute>() is { } key)
        {
            return type == typeof(uint) ? new KeyDataViewType(typeof(uint), key.Count) : throw new InvalidOperationException($"member '{member.Name}' has [KeyType] but is {type.Name}, not UInt32");
        }

        var dims = member.GetCustomAttribute<VectorTypeAttribute>()?.Dimensions ?? Array.Empty<int>();
        if (type.IsArray && Primitive(type.GetElementType()!) is { } item)
        {
            return new VectorDataViewType(item, dims);
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(VBuffer<>) && Primitive(type.GetGenericArguments()[0]) is { } bufferItem)
        {
            return new VectorDataViewType(bufferItem, dims);
        }

        return Primitive(type) ?? throw new InvalidOperationException($"member '{member.Name}' of type {type.Name} has no column type (numbers, bool, string, their arrays and VBuffer<T> have)");
    }

    /// <summary>The primitive column type of a .NET type (string as text), or null.</summary>
    public static PrimitiveDataViewType? Primitive(Type type)
        => type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ? TextDataViewType.Instance
            : type == typeof(bool) ? BooleanDataViewType.Instance
            : NumberDataViewType.FromRawType(type);

    /// <summary>Converts a member's value to the column's raw value.</summary>
    public static object? ToColumnValue(object? value, DataViewType columnType)
    {
        return (value, columnType) switch
        {
            (string s, _) => s.AsMemory(),
            (null, TextDataViewType) => ReadOnlyMemory<char>.Empty,
            (string[] strings, VectorDataViewType v) => new VBuffer<ReadOnlyMemory<char>>(strings.Length, strings.Select(s => s.AsMemory()).ToArray()),
            (Array array, VectorDataViewType v) => Activator.CreateInstance(v.RawType, array.Length, array, null),
            (null, VectorDataViewType v) => Activator.CreateInstance(v.RawType, 0, Array.CreateInstance(v.ItemType.RawType, 0), null),
            _ => value,
        };
    }

    /// <summary>Converts a column's raw value to a member of <paramref name="memberType"/>.</summary>
    public static object? FromColumnValue(object? value, Type memberType)
    {
        return value switch
        {
            ReadOnlyMemory<char> text when memberType == typeof(string) => text.ToString(),
            VBuffer<ReadOnlyMemory<char>> texts when memberType == typeof(string[]) => texts.ToArray().Select(t => t.ToString()).ToArray(),
            not null when memberType.IsArray && value.GetType().IsGenericType && value.GetType().GetGenericTypeDefinition() == typeof(VBuffer<>)
                => value.GetType().GetMethod(nameof(VBuffer<int>.ToArray))!.Invoke(value, null),
            _ => value,
        };
    }

    /// <summary>Whether a column of <paramref name="columnType"/> can fill a member of <paramref name="memberType"/>.</summary>
    public static bool CanBind(DataViewType columnType, Type memberType)
        => columnType switch
        {
            KeyDataViewType => memberType == typeof(uint),
            TextDataViewType => memberType == typeof(string) || memberType == typeof(ReadOnlyMemory<char>),
            VectorDataViewType v => memberType == v.RawType || (memberType.IsArray && (memberType.GetElementType() == v.ItemType.RawType || (v.ItemType is TextDataViewType && memberType == typeof(string[])))),
            _ => memberType == columnType.RawType,
        };

    /// <summary>Sets a member.</summary>
    public static void Set(MemberInfo member, object target, object? value)
    {
        if (member is FieldInfo f)
        {
            f.SetValue(target, value);
        }
        else
        {
            ((PropertyInfo)member).SetValue(target, value);
        }
    }

    /// <summary>Reads a member.</summary>
    public static object? Get(MemberInfo member, object source) => member is FieldInfo f ? f.GetValue(source) : ((PropertyInfo)member).GetValue(source);
}
