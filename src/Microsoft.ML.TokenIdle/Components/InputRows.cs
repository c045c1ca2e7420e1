using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Rows for a saved model's input schema built from one column's values (image paths, or encoded images): every other
/// column holds its type's default (empty text, 0, a missing key), so that a whole saved pipeline — label
/// mapping included — can score new images from the command line.
/// </summary>
internal static class InputRows
{
    /// <summary>
    /// The path column a saved pipeline loads its images from: the input of its first <c>LoadImages</c> or
    /// <c>LoadRawImageBytes</c> step, or null when it has none.
    /// </summary>
    public static string? ImagePathColumn(IEnumerable<ITransformer> steps)
        => steps.OfType<ImageLoadingTransformer>().Select(loader => loader.ColumnPairs[0].inputColumnName).FirstOrDefault();

    /// <summary>One row per value of <paramref name="textColumn"/>.</summary>
    /// <exception cref="InvalidDataException">The column is not text, or another column has a type that has no default here.</exception>
    public static IDataView Create(IHostEnvironment env, DataViewSchema schema, string textColumn, IReadOnlyList<string> values)
        => Create(env, schema, textColumn, values.Count, (builder, column) =>
        {
            if (column.Type is not TextDataViewType)
            {
                throw new InvalidDataException($"input column '{textColumn}' is {column.Type}, not text");
            }

            builder.AddColumn(column.Name, TextDataViewType.Instance, values.Select(v => v.AsMemory()).ToArray());
        });

    /// <summary>One row per value of <paramref name="bytesColumn"/>, a variable-length byte vector column (encoded images).</summary>
    /// <exception cref="InvalidDataException">The column is not a byte vector, or another column has a type that has no default here.</exception>
    public static IDataView Create(IHostEnvironment env, DataViewSchema schema, string bytesColumn, IReadOnlyList<byte[]> values)
        => Create(env, schema, bytesColumn, values.Count, (builder, column) =>
        {
            if (column.Type is not VectorDataViewType { ItemType: var item } || item != NumberDataViewType.Byte)
            {
                throw new InvalidDataException($"input column '{bytesColumn}' is {column.Type}, not a byte vector");
            }

            builder.AddColumn(column.Name, NumberDataViewType.Byte, values.ToArray());
        });

    private static IDataView Create(IHostEnvironment env, DataViewSchema schema, string filled, int count, Action<ArrayDataViewBuilder, DataViewSchema.Column> fill)
    {
        var builder = new ArrayDataViewBuilder(env);
        foreach (var column in schema.Where(c => !c.IsHidden))
        {
            if (column.Name == filled)
            {
                fill(builder, column);
                continue;
            }

            void Defaults<T>(PrimitiveDataViewType type) => builder.AddColumn(column.Name, type, new T[count]);
            switch (column.Type)
            {
                case TextDataViewType text:
                    Defaults<ReadOnlyMemory<char>>(text);
                    break;
                case KeyDataViewType key when key.RawType == typeof(uint):
                    Defaults<uint>(key);
                    break;
                case BooleanDataViewType boolean:
                    Defaults<bool>(boolean);
                    break;
                case NumberDataViewType number when number.RawType == typeof(float):
                    Defaults<float>(number);
                    break;
                case NumberDataViewType number when number.RawType == typeof(double):
                    Defaults<double>(number);
                    break;
                case NumberDataViewType number when number.RawType == typeof(int):
                    Defaults<int>(number);
                    break;
                case NumberDataViewType number when number.RawType == typeof(long):
                    Defaults<long>(number);
                    break;
                default:
                    throw new InvalidDataException($"input column '{column.Name}' is {column.Type}; only text, key, number and boolean columns can be filled with defaults");
            }
        }

        return builder.GetDataView();
    }
}
