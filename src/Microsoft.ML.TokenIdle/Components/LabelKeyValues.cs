using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// The training label's values (its key column's <c>KeyValues</c>, of whatever item type MapValueToKey gave
/// them), which the model's Score slots and PredictedLabel keys stand for: key k + 1 is class k. A key
/// column without <c>KeyValues</c> gets the text values "0", "1", …. Saved in the model in a length-checked
/// layout of its own: ML.NET's type-and-value codec allocates by stored counts before reading them, so a
/// damaged model could ask it for gigabytes.
/// </summary>
internal abstract class LabelKeyValues
{
    // The item types MapValueToKey produces; the byte values are part of the model format (0x00010003).
    private static readonly (byte Kind, PrimitiveDataViewType Type)[] StoredTypes =
    {
        (1, TextDataViewType.Instance), (2, BooleanDataViewType.Instance),
        (3, NumberDataViewType.SByte), (4, NumberDataViewType.Byte), (5, NumberDataViewType.Int16), (6, NumberDataViewType.UInt16),
        (7, NumberDataViewType.Int32), (8, NumberDataViewType.UInt32), (9, NumberDataViewType.Int64), (10, NumberDataViewType.UInt64),
        (11, NumberDataViewType.Single), (12, NumberDataViewType.Double),
        (13, DateTimeDataViewType.Instance), (14, DateTimeOffsetDataViewType.Instance), (15, TimeSpanDataViewType.Instance),
    };

    // A key type is stored as this kind, its raw type's kind and its key count.
    private const byte KeyKind = 16;

    private protected LabelKeyValues(VectorDataViewType type, Array values)
    {
        Type = type;
        Values = values;
        var names = new string[values.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = Convert.ToString(values.GetValue(i), CultureInfo.InvariantCulture) ?? string.Empty;
        }

        Names = names;
    }

    /// <summary>The annotation's type: a known-size vector of the values' item type.</summary>
    public VectorDataViewType Type { get; }

    /// <summary>Each class's value as text (the Score column's slot names).</summary>
    public IReadOnlyList<string> Names { get; }

    private protected Array Values { get; }

    /// <summary>The values of a key-typed label column.</summary>
    /// <exception cref="InvalidOperationException">The values' item type is not one a model can store.</exception>
    public static LabelKeyValues FromColumn(DataViewSchema.Column label)
    {
        var count = checked((int)label.Type.GetKeyCount());
        var annotation = label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (annotation?.Type is not VectorDataViewType { ItemType: PrimitiveDataViewType } type || type.Size != count)
        {
            var names = Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture).AsMemory()).ToArray();
            return new Typed<ReadOnlyMemory<char>>(new VectorDataViewType(TextDataViewType.Instance, count), names);
        }

        if (type.ItemType is not KeyDataViewType && KindOf(type.ItemType) is null)
        {
            throw new InvalidOperationException($"the label column '{label.Name}' has key values of type {type.ItemType}, which a model cannot store: map a text, boolean, numeric, date/time or key column to keys");
        }

        return Create(type, reader => reader.Read(label.Annotations, annotation.Value));
    }

    /// <summary>Reads the values saved by <see cref="Save"/>, which must be <paramref name="classes"/> values.</summary>
    /// <exception cref="FormatException">The stored values are damaged, of an unknown type, or not <paramref name="classes"/> many.</exception>
    public static LabelKeyValues Load(IHostEnvironment env, ModelLoadContext ctx, int classes, string classesSource)
    {
        var reader = ctx.Reader;
        string Where() => $"'{ctx.Directory}': the label's class values";
        var kind = reader.ReadByte();
        PrimitiveDataViewType itemType;
        if (kind == KeyKind)
        {
            var raw = reader.ReadByte();
            var keyCount = reader.ReadUInt64();
            var rawType = StoredTypes.FirstOrDefault(t => t.Kind == raw).Type as NumberDataViewType;
            env.CheckDecode(rawType?.RawType is { } r && (r == typeof(byte) || r == typeof(ushort) || r == typeof(uint) || r == typeof(ulong)), $"{Where()} have key type of unknown raw type {raw}");
            try
            {
                itemType = new KeyDataViewType(rawType!.RawType, keyCount);
            }
            catch (ArgumentException e)
            {
                throw env.ExceptDecode(e, $"{Where()} have key count {keyCount}, which {rawType} keys cannot hold");
            }
        }
        else
        {
            itemType = StoredTypes.FirstOrDefault(t => t.Kind == kind).Type ?? throw env.ExceptDecode($"{Where()} have unknown type {kind}");
        }

        var count = reader.ReadInt32();
        env.CheckDecode(count == classes, $"'{ctx.Directory}': {classesSource} says num_classes {classes} but the model stores {count} class names");
        var values = ReadValues(env, reader, itemType.RawType, count, Where);
        if (itemType is KeyDataViewType key)
        {
            foreach (var value in values)
            {
                var k = Convert.ToUInt64(value, CultureInfo.InvariantCulture);
                env.CheckDecode(k <= key.Count, $"{Where()} hold key {k}, above the key count {key.Count}");
            }
        }

        return Create(new VectorDataViewType(itemType, count), r => r.FromArray(values));
    }

    /// <summary>Writes the values at the model stream's current position.</summary>
    public void Save(ModelSaveContext ctx)
    {
        var writer = ctx.Writer;
        var itemType = Type.ItemType;
        if (itemType is KeyDataViewType key)
        {
            writer.Write(KeyKind);
            writer.Write(KindOf(NumberType(key.RawType))!.Value);
            writer.Write(key.Count);
        }
        else
        {
            writer.Write(KindOf(itemType)!.Value);
        }

        writer.Write(Values.Length);
        switch (Values)
        {
            case ReadOnlyMemory<char>[] texts:
                foreach (var text in texts)
                {
                    writer.Write(text.Length);
                    writer.Write(MemoryMarshal.AsBytes(text.Span));
                }

                break;
            case DateTime[] times:
                foreach (var time in times)
                {
                    writer.Write(time.ToBinary());
                }

                break;
            case DateTimeOffset[] times:
                foreach (var time in times)
                {
                    writer.Write(time.Ticks);
                    writer.Write(checked((short)time.Offset.TotalMinutes));
                }

                break;
            case TimeSpan[] spans:
                foreach (var span in spans)
                {
                    writer.Write(span.Ticks);
                }

                break;
            default:
                // Booleans and numbers: their little-endian bytes, as ML.NET's own codecs store them.
                var bytes = new byte[Buffer.ByteLength(Values)];
                Buffer.BlockCopy(Values, 0, bytes, 0, bytes.Length);
                writer.Write(bytes);
                break;
        }
    }

    /// <summary>Adds an annotation of <paramref name="kind"/> (KeyValues, TrainingLabelValues) holding the values.</summary>
    public abstract void AddTo(DataViewSchema.Annotations.Builder builder, string kind);

    private static byte? KindOf(DataViewType type) => StoredTypes.FirstOrDefault(t => t.Type.Equals(type)).Kind is var k and > 0 ? k : null;

    private static NumberDataViewType NumberType(Type raw) => (NumberDataViewType)StoredTypes.First(t => t.Type.RawType == raw).Type;

    /// <summary>
    /// Reads <paramref name="count"/> values, each length checked against the bytes the stream still holds before
    /// anything is allocated for it.
    /// </summary>
    private static Array ReadValues(IHostEnvironment env, BinaryReader reader, Type raw, int count, Func<string> where)
    {
        var stream = reader.BaseStream;
        long Left() => stream.Length - stream.Position;
        if (raw == typeof(ReadOnlyMemory<char>))
        {
            var texts = new List<ReadOnlyMemory<char>>();
            for (var i = 0; i < count; i++)
            {
                var length = reader.ReadInt32();
                env.CheckDecode(length >= 0 && length <= Left() / 2, $"{where()}: value {i} claims {length} characters, more than the model holds");
                texts.Add(MemoryMarshal.Cast<byte, char>(reader.ReadBytes(length * 2)).ToString().AsMemory());
            }

            return texts.ToArray();
        }

        var size = raw == typeof(DateTimeOffset) ? 10 : raw == typeof(DateTime) || raw == typeof(TimeSpan) ? 8 : Marshal.SizeOf(raw == typeof(bool) ? typeof(byte) : raw);
        env.CheckDecode((long)count * size <= Left(), $"{where()}: {count} values of {size} bytes are more than the model holds");
        var bytes = reader.ReadBytes(count * size);
        try
        {
            return raw switch
            {
                _ when raw == typeof(DateTime) => MemoryMarshal.Cast<byte, long>(bytes).ToArray().Select(DateTime.FromBinary).ToArray(),
                _ when raw == typeof(TimeSpan) => MemoryMarshal.Cast<byte, long>(bytes).ToArray().Select(t => new TimeSpan(t)).ToArray(),
                _ when raw == typeof(DateTimeOffset) => Enumerable.Range(0, count)
                    .Select(i => new DateTimeOffset(BitConverter.ToInt64(bytes, i * size), TimeSpan.FromMinutes(BitConverter.ToInt16(bytes, i * size + 8)))).ToArray(),
                _ when raw == typeof(bool) => bytes.Select(b => b <= 1 ? b == 1 : throw new FormatException($"byte {b} is not a boolean")).ToArray(),
                _ => Numbers(raw, bytes),
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw env.ExceptDecode(e, $"{where()} are damaged ({e.Message})");
        }
    }

    private static Array Numbers(Type raw, byte[] bytes)
    {
        var values = Array.CreateInstance(raw, bytes.Length / Marshal.SizeOf(raw));
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private static LabelKeyValues Create(VectorDataViewType type, Func<IValueReader, LabelKeyValues> read)
        => read((IValueReader)Activator.CreateInstance(typeof(ValueReader<>).MakeGenericType(type.ItemType.RawType), type)!);

    private interface IValueReader
    {
        LabelKeyValues Read(DataViewSchema.Annotations annotations, DataViewSchema.Column column);

        LabelKeyValues FromArray(Array values);
    }

    private sealed class ValueReader<T> : IValueReader
    {
        private readonly VectorDataViewType _type;

        public ValueReader(VectorDataViewType type) => _type = type;

        public LabelKeyValues Read(DataViewSchema.Annotations annotations, DataViewSchema.Column column)
        {
            VBuffer<T> values = default;
            annotations.GetValue(column.Name, ref values);
            return new Typed<T>(_type, values.DenseValues().ToArray());
        }

        public LabelKeyValues FromArray(Array values) => new Typed<T>(_type, (T[])values);
    }

    private sealed class Typed<T> : LabelKeyValues
    {
        public Typed(VectorDataViewType type, T[] values)
            : base(type, values)
        {
        }

        public override void AddTo(DataViewSchema.Annotations.Builder builder, string kind)
        {
            var values = (T[])Values;
            builder.Add(kind, Type, (ref VBuffer<T> value) => value = new VBuffer<T>(values.Length, values));
        }
    }
}
