using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

/// <summary>Compares a trace's kept tokens with a fixture's index tensor (in order where the order is reliable, else as sets).</summary>
internal static class SelectionAssert
{
    /// <summary>The layer number at the end of an index tensor's name (<c>….layer{L}</c>).</summary>
    public static int LayerOf(string tensor)
        => int.Parse(tensor[(tensor.LastIndexOf("layer", StringComparison.Ordinal) + 5)..], System.Globalization.CultureInfo.InvariantCulture);

    /// <param name="offset">Added to our 0-based non-class positions (1 for IdleViT's sequence positions).</param>
    /// <param name="leadingClass">The expected rows start with the class token's position 0.</param>
    public static void Kept(FixtureSet set, string tensor, bool orderReliable, TokenReductionRecord record, int offset, bool leadingClass)
    {
        var expected = set.IndexRows(tensor);
        var k = record.KeptPerImage;
        for (var b = 0; b < expected.Length; b++)
        {
            var actual = record.Kept.Skip(b * k).Take(k).Select(i => i + offset).ToArray();
            var row = expected[b];
            if (leadingClass)
            {
                Assert.Equal(0, row[0]);
                row = row[1..];
            }

            if (orderReliable)
            {
                Assert.Equal(row, actual);
            }
            else
            {
                Assert.Equal(row.Order(), actual.Order());
            }
        }
    }

    /// <summary>The original identities (patch number or −1 for fused) of the kept tokens, as sets per image.</summary>
    public static void Sources(FixtureSet set, string tensor, TokenReductionRecord record)
    {
        var expected = set.IndexRows(tensor);
        var k = record.KeptPerImage;
        for (var b = 0; b < expected.Length; b++)
        {
            Assert.Equal(expected[b].Order(), record.KeptSources.Skip(b * k).Take(k).Order());
        }
    }
}
