using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

public class TokenScheduleValidationTests
{
    private static readonly VisionTransformerConfig Config = VisionTransformerConfig.DeitSmall;

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void KeepRatesOutsideZeroToOneAreRejected(double rate)
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenIdlingOptions { KeepRatio = rate }.CreateStrategy(Config));
        Assert.Contains("outside (0, 1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TokenReorganizationOptions { Schedule = new[] { 1, 1, 1, rate, 1, 1, 1, 1, 1, 1, 1, 1 } }.CreateStrategy(Config));
        Assert.Contains("at layer 3", e.Message);
    }

    [Fact]
    public void LayersOutsideTheModelOrRepeatedAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenReorganizationOptions { Layers = new[] { 3, 12 } }.CreateStrategy(Config));
        Assert.Contains("layer 12 is outside the model's layers 0..11", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TokenReorganizationOptions { Layers = new[] { 3, 3 } }.CreateStrategy(Config));
        Assert.Contains("listed twice", e.Message);
    }

    [Fact]
    public void ASchedulesLengthMustMatchTheDepth()
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenIdlingOptions { Schedule = new[] { 1.0, 0.5 } }.CreateStrategy(Config));
        Assert.Contains("2 ratios but the model has 12 layers", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TokenIdlingOptions { Schedule = new[] { 1.0, 0.5 }, Layers = new[] { 1 } }.CreateStrategy(Config));
        Assert.Contains("not both", e.Message);
    }

    [Fact]
    public void ACountThatRoundsToZeroIsRejected()
    {
        // floor(196 · 0.001) = 0 patches at the first idle layer.
        var e = Assert.Throws<ArgumentException>(() => new TokenIdlingOptions { KeepRatio = 0.001 }.CreateStrategy(Config));
        Assert.Contains("keeps no token of 196", e.Message);
        Assert.Contains("layer 4", e.Message);
    }

    [Fact]
    public void LifeSlimmingMustFollowThePredictor()
    {
        var e = Assert.Throws<ArgumentException>(() => new LifeRegressionOptions { PredictorLayer = 5 }.CreateStrategy(Config));
        Assert.Contains("slimming layer 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new LifeRegressionOptions { PredictorLayer = 11 }.CreateStrategy(Config));
        Assert.Contains("predictor layer 11", e.Message);
    }

    [Fact]
    public void SchedulesParseFromTheCommandLineForm()
    {
        Assert.Equal(new[] { 1, 0.5, 1 }, TokenSchedule.Parse("1, 0.5,1").Ratios);
        var e = Assert.Throws<FormatException>(() => TokenSchedule.Parse("1,x"));
        Assert.Contains("entry 1 'x'", e.Message);
    }
}
