using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Rows for a saved model's input schema built from one text column's values (e.g. image paths): every other
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
    {
        var builder = new ArrayDataViewBuilder(env);
        foreach (var column in schema.Where(c => !c.IsHidden))
        {
            if (column.Name == textColumn)
            {
                if (column.Type is not TextDataViewType)
                {
                    throw new InvalidDataException($"input column '{textColumn}' is {column.Type}, not text");
                }

                builder.AddColumn(column.Name, TextDataViewType.Instance, values.Select(v => v.AsMemory()).ToArray());
                continue;
            }

            switch (column.Type)
            {
                case TextDataViewType:
                    builder.AddColumn(column.Name, TextDataViewType.Instance, new ReadOnlyMemory<char>[values.Count]);
                    break;
                case KeyDataViewType key:
                    builder.AddColumn(column.Name, (PrimitiveDataViewType)key, new uint[values.Count]);
                    break;
                case NumberDataViewType number when number.RawType == typeof(float):
                    builder.AddColumn(column.Name, number, new float[values.Count]);
                    break;
                case NumberDataViewType number when number.RawType == typeof(double):
                    builder.AddColumn(column.Name, number, new double[values.Count]);
                    break;
                case NumberDataViewType number when number.RawType == typeof(int):
                    builder.AddColumn(column.Name, number, new int[values.Count]);
                    break;
                case NumberDataViewType number when number.RawType == typeof(long):
                    builder.AddColumn(column.Name, number, new long[values.Count]);
                    break;
                case BooleanDataViewType:
                    builder.AddColumn(column.Name, BooleanDataViewType.Instance, new bool[values.Count]);
                    break;
                default:
                    throw new InvalidDataException($"input column '{column.Name}' is {column.Type}; only text, key, number and boolean columns can be filled with defaults");
            }
        }

        return builder.GetDataView();
    }
}
