using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Serialization;

/// <summary>
/// Builds an ONNX graph (ONNX's own protobuf types, from OnnxSharp) one operator at a time: each call adds a node
/// and returns the name of its output, so exporters read like the forward pass they mirror.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto _graph = new() { Name = "vision_transformer" };
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly HashSet<string> _weights = new(StringComparer.Ordinal);
    private int _nodes;

    /// <summary>Declares a float32 graph input; a null dimension is the dynamic batch axis.</summary>
    public string Input(string name, params long?[] dims)
    {
        _graph.Input.Add(ValueInfo(name, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a float32 graph output named <paramref name="name"/>.</summary>
    public void Output(string value, string name, params long?[] dims)
    {
        _graph.Node.Add(new NodeProto { OpType = "Identity", Name = $"n{_nodes++}_output", Input = { value }, Output = { name } });
        _graph.Output.Add(ValueInfo(name, dims));
    }

    /// <summary>A float32 initializer holding a tensor's values (other float types are converted), added once per name.</summary>
    public string Weight(string name, Tensor value)
    {
        if (!_weights.Add(name))
        {
            return name;
        }

        using var scope = NewDisposeScope();
        var data = value.detach().to_type(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(data.bytes) };
        proto.Dims.AddRange(data.shape);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>An int8 initializer holding a tensor of int8 values (quantised weights), added once per name.</summary>
    public string Int8Weight(string name, Tensor value)
    {
        if (!_weights.Add(name))
        {
            return name;
        }

        using var scope = NewDisposeScope();
        var data = value.detach().cpu().contiguous();
        if (data.dtype != ScalarType.Int8)
        {
            throw new ArgumentException($"ONNX export: '{name}' must be int8, got {data.dtype}");
        }

        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(data.bytes) };
        proto.Dims.AddRange(data.shape);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>An int8 constant of zeros of length <paramref name="count"/> (symmetric quantisation's zero points).</summary>
    public string Int8Zeros(long count) => Constant($"i8zeros[{count}]", () => new TensorProto
    {
        DataType = (int)TensorProto.Types.DataType.Int8,
        Dims = { count },
        RawData = ByteString.CopyFrom(new byte[count]),
    });

    /// <summary>An int64 constant (shapes, indices, axes), shared between uses.</summary>
    public string Int64s(params long[] values) => Constant($"i64[{string.Join(',', values)}]", () =>
    {
        var proto = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length } };
        proto.Int64Data.AddRange(values);
        return proto;
    });

    /// <summary>An int64 scalar constant.</summary>
    public string Int64(long value) => Constant($"i64({value})", () => new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Int64Data = { value } });

    /// <summary>A float32 scalar constant.</summary>
    public string Float(float value) => Constant($"f32({value:R})", () => new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, FloatData = { value } });

    /// <summary>A float32 constant of the given shape.</summary>
    public string Floats(float[] values, params long[] dims) => Constant($"f32[{string.Join(',', values)}]x[{string.Join(',', dims)}]", () =>
    {
        var proto = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims);
        proto.FloatData.AddRange(values);
        return proto;
    });

    /// <summary>Adds an operator node with one output and returns the output's name.</summary>
    public string Op(string type, string[] inputs, params AttributeProto[] attributes) => Ops(type, 1, inputs, attributes)[0];

    /// <summary>Adds an operator node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Ops(string type, int outputs, string[] inputs, params AttributeProto[] attributes)
    {
        var id = _nodes++;
        var node = new NodeProto { OpType = type, Name = $"n{id}_{type}" };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(o => $"n{id}_{type}_{o}").ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An integer-list attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    /// <summary>A float attribute.</summary>
    public static AttributeProto FloatAttribute(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>The model: this graph at <paramref name="opset"/> of the default domain.</summary>
    public ModelProto ToModel(int opset, string producerVersion, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            // IR version 8 is what opset 17 and 18 shipped with; ONNX Runtime reads it for every opset ≥ 17.
            IrVersion = 8,
            ProducerName = "Microsoft.ML.TokenIdle",
            ProducerVersion = producerVersion,
            Graph = _graph,
            OpsetImport = { new OperatorSetIdProto { Domain = string.Empty, Version = opset } },
        };
        model.MetadataProps.AddRange(metadata.Select(kv => new StringStringEntryProto { Key = kv.Key, Value = kv.Value }));
        return model;
    }

    private string Constant(string key, Func<TensorProto> create)
    {
        if (!_constants.TryGetValue(key, out var name))
        {
            name = $"c{_constants.Count}";
            var proto = create();
            proto.Name = name;
            _graph.Initializer.Add(proto);
            _constants[key] = name;
        }

        return name;
    }

    private static ValueInfoProto ValueInfo(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "batch" }));
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
