using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Tests.Fuzzing;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Serialization;

public class SafetensorsFileTests
{
    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"tokenidle-{Guid.NewGuid():N}-{name}");

    private static byte[] Build(string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    [Fact]
    public void WriteThenReadRoundTripsWithAlignedHeader()
    {
        var path = Temp("round.safetensors");
        var values = new[] { 1f, -2.5f, 3e-8f, float.MaxValue, 0f, 6f };
        var a = tensor(values, new long[] { 2, 3 });
        SafetensorsFile.Write(path, new[] { KeyValuePair.Create("a", a), KeyValuePair.Create("b", full(1, 7f)) }, new Dictionary<string, string> { ["format"] = "pt" });
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8);
        var read = SafetensorsFile.Read(path);
        Assert.Equal(new[] { "a", "b" }, read.Keys);
        Assert.Equal(values, read["a"].ToTensor().data<float>().ToArray());
        Assert.Equal(new long[] { 2, 3 }, read["a"].Shape);
        Assert.Equal(new[] { 7f }, read["b"].ToTensor().data<float>().ToArray());
        File.Delete(path);
    }

    [Fact]
    public void HalfAndBFloat16AreConverted()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteHalfLittleEndian(data, (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2), (Half)(-0.25f));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), (ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), (ushort)(BitConverter.SingleToInt32Bits(-2.0f) >> 16));
        var parsed = SafetensorsFile.Parse(Build("""{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}""", data), "mem");
        Assert.Equal(new[] { 1.5f, -0.25f }, parsed["h"].ToTensor().data<float>().ToArray());
        Assert.Equal(new[] { 3f, -2f }, parsed["b"].ToTensor().data<float>().ToArray());
    }

    [Theory]
    [InlineData("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}""", "'x'")]
    [InlineData("""{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "'x'")]
    [InlineData("""{"x":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", "Q4")]
    [InlineData("""{"x": nope""", "malformed")]
    public void CorruptHeadersNameTheSourceAndTheProblem(string header, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(Build(header, new byte[8]), "w.safetensors"));
        Assert.Contains("w.safetensors", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775808]}}""", "'x': 'data_offsets' must be an array of non-negative integers")]
    [InlineData("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775799,9223372036854775807]}}""", "'x': data offsets [9223372036854775799,9223372036854775807] are not a [begin, end] range inside the 8-byte data section")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "tensor 'b' overlaps tensor 'a' (bytes 4..8)")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "tensor 'a' leaves a hole of 4 bytes after the header")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "the tensors cover 4 of the 8 data bytes")]
    [InlineData("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "tensor name 'x' appears twice")]
    [InlineData("""{"x":{"dtype":"U8","shape":[65536,65536,65536,65536],"data_offsets":[0,0]},"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "'x': shape [65536,65536,65536,65536] of U8 has more bytes than 64 bits can count")]
    [InlineData("""{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "'x': 'shape' must be an array of non-negative integers, got [-2]")]
    [InlineData("""{"x":{"shape":[2],"data_offsets":[0,8]}}""", "'x': has no 'dtype' field")]
    [InlineData("""{"x":[1,2]}""", "'x': has no 'dtype' field")]
    [InlineData("""{"__metadata__":{"format":1},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "'__metadata__' must appear once, as an object of strings")]
    public void HeadersThatBreakTheFormatsRulesAreRefusedByRule(string header, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(Build(header, new byte[8]), "w.safetensors"));
        Assert.Equal("'w.safetensors': ", e.Message[..17]);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ANameThatIsNotUtf8IsRefused()
    {
        var bytes = Build("""{"x?":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]);
        bytes[Array.IndexOf(bytes, (byte)'?')] = 0xFF;
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(bytes, "w.safetensors"));
        Assert.StartsWith("'w.safetensors' has a malformed safetensors header", e.Message);
    }

    [Fact]
    public void MutantsOfAValidFileParseOrFailWithInvalidDataExceptionInBoundedTimeAndMemory()
    {
        using var stream = new MemoryStream();
        SafetensorsFile.Write(stream, new[] { KeyValuePair.Create("blocks.0.attn.qkv.weight", randn(6, 4)), KeyValuePair.Create("head.bias", arange(3).to(ScalarType.Float32)) }, new Dictionary<string, string> { ["format"] = "pt" });
        var original = stream.ToArray();
        var counts = FuzzRun.Run("safetensors", original, bytes =>
        {
            foreach (var entry in SafetensorsFile.Parse(bytes, "mutant").Values)
            {
                entry.ToTensor().Dispose();
            }
        }, new[] { typeof(InvalidDataException) }, TimeSpan.FromSeconds(1), 1 << 20);
        Assert.True(counts.GetValueOrDefault(nameof(InvalidDataException)) > FuzzRun.Mutants / 2, string.Join(", ", counts));
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(new byte[] { 255, 0, 0, 0, 0, 0, 0, 0, 1 }, "t.safetensors"));
        Assert.Contains("truncated", e.Message);
        Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(new byte[3], "t.safetensors"));
    }

    [Fact]
    public void FailedWriteLeavesTheOldFileIntact()
    {
        var path = Temp("keep.safetensors");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => SafetensorsFile.Write(path, Throwing()));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}*"));
        File.Delete(path);

        static IEnumerable<KeyValuePair<string, Tensor>> Throwing()
        {
            yield return KeyValuePair.Create("a", zeros(1));
            throw new InvalidOperationException("boom");
        }
    }
}
