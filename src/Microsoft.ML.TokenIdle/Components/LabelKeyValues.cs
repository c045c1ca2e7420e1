using System.Globalization;
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.Data.IO;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// The training label's values (its key column's <c>KeyValues</c>, of whatever item type MapValueToKey gave
/// them), which the model's Score slots and PredictedLabel keys stand for: key k + 1 is class k. A key
/// column without <c>KeyValues</c> gets the text values "0", "1", …. Saved in the model with ML.NET's own
/// type-and-value codec.
/// </summary>
internal abstract class LabelKeyValues
{
    private protected LabelKeyValues(VectorDataViewType type, string[] names) => (Type, Names) = (type, names);

    /// <summary>The annotation's type: a known-size vector of the values' item type.</summary>
    public VectorDataViewType Type { get; }

    /// <summary>Each class's value as text (the Score column's slot names).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The values of a key-typed label column.</summary>
    public static LabelKeyValues FromColumn(DataViewSchema.Column label)
    {
        var count = checked((int)label.Type.GetKeyCount());
        var annotation = label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (annotation?.Type is not VectorDataViewType { ItemType: PrimitiveDataViewType } type || type.Size != count)
        {
            var names = Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture).AsMemory()).ToArray();
            return new Typed<ReadOnlyMemory<char>>(new VectorDataViewType(TextDataViewType.Instance, count), new VBuffer<ReadOnlyMemory<char>>(count, names));
        }

        return Create(type, reader => reader.Read(label.Annotations, annotation.Value));
    }

    /// <summary>Reads the values saved by <see cref="Save"/>.</summary>
    /// <exception cref="FormatException">The stored values are not a known-size vector of a primitive type.</exception>
    public static LabelKeyValues Load(IHostEnvironment env, ModelLoadContext ctx)
    {
        var saver = new BinarySaver(env, new BinarySaver.Arguments());
        DataViewType? type;
        object? value;
        try
        {
            env.CheckDecode(saver.TryLoadTypeAndValue(new EndOfDataGuardStream(ctx.Reader.BaseStream), out type, out value), "the label's class values cannot be read");
        }
        catch (EndOfStreamException e)
        {
            throw env.ExceptDecode(e, $"'{ctx.Directory}': the label's class values are damaged ({e.Message})");
        }
        catch (TargetInvocationException e) when (e.InnerException is EndOfStreamException or FormatException or InvalidOperationException or ArgumentException or OverflowException)
        {
            // BinarySaver reads the value through reflection; a damaged value surfaces as the invocation's inner exception.
            throw env.ExceptDecode(e.InnerException, $"'{ctx.Directory}': the label's class values are damaged ({e.InnerException.Message})");
        }

        env.CheckDecode(type is VectorDataViewType { ItemType: PrimitiveDataViewType, Size: > 0 } && value is not null, "the label's class values are not a vector of a primitive type");
        return Create((VectorDataViewType)type, reader => reader.FromBoxed(value!));
    }

    /// <summary>Writes the values at the model stream's current position.</summary>
    public abstract void Save(IHostEnvironment env, ModelSaveContext ctx);

    /// <summary>Adds an annotation of <paramref name="kind"/> (KeyValues, TrainingLabelValues) holding the values.</summary>
    public abstract void AddTo(DataViewSchema.Annotations.Builder builder, string kind);

    private static LabelKeyValues Create(VectorDataViewType type, Func<IValueReader, LabelKeyValues> read)
        => read((IValueReader)Activator.CreateInstance(typeof(ValueReader<>).MakeGenericType(type.ItemType.RawType), type)!);

    private interface IValueReader
    {
        LabelKeyValues Read(DataViewSchema.Annotations annotations, DataViewSchema.Column column);

        LabelKeyValues FromBoxed(object value);
    }

    private sealed class ValueReader<T> : IValueReader
    {
        private readonly VectorDataViewType _type;

        public ValueReader(VectorDataViewType type) => _type = type;

        public LabelKeyValues Read(DataViewSchema.Annotations annotations, DataViewSchema.Column column)
        {
            VBuffer<T> values = default;
            annotations.GetValue(column.Name, ref values);
            return new Typed<T>(_type, values);
        }

        public LabelKeyValues FromBoxed(object value) => new Typed<T>(_type, (VBuffer<T>)value);
    }

    private sealed class Typed<T> : LabelKeyValues
    {
        private readonly T[] _values;

        public Typed(VectorDataViewType type, VBuffer<T> values)
            : this(type, values.DenseValues().ToArray())
        {
        }

        private Typed(VectorDataViewType type, T[] values)
            : base(type, values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? string.Empty).ToArray()) => _values = values;

        public override void Save(IHostEnvironment env, ModelSaveContext ctx)
        {
            var saver = new BinarySaver(env, new BinarySaver.Arguments());
            var value = new VBuffer<T>(_values.Length, _values);
            if (!saver.TryWriteTypeAndValue(ctx.Writer.BaseStream, Type, ref value, out _))
            {
                throw env.Except($"the label's class values of type {Type.ItemType} cannot be saved");
            }
        }

        public override void AddTo(DataViewSchema.Annotations.Builder builder, string kind)
        {
            var values = _values;
            builder.Add(kind, Type, (ref VBuffer<T> value) => value = new VBuffer<T>(values.Length, values));
        }
    }
}
