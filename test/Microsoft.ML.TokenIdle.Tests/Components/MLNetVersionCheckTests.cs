using Microsoft.ML.TokenIdle.Components;

namespace Microsoft.ML.TokenIdle.Tests.Components;

public sealed class MLNetVersionCheckTests
{
    [Theory]
    [InlineData("6.0.0", "6.0.0")]
    [InlineData("6.0.0", "6.2.1")]
    [InlineData("6.0.0", "6.0.1-preview.1+abc")]
    public void TheSameMajorIsAccepted(string builtAgainst, string loaded)
        => Assert.Null(MLNetVersionCheck.Check(builtAgainst, loaded));

    [Theory]
    [InlineData("6.0.0", "5.0.1", 5)]
    [InlineData("6.0.0", "7.0.0", 7)]
    public void AnotherMajorIsRefusedInOneLineNamingBothVersions(string builtAgainst, string loaded, int major)
    {
        var message = MLNetVersionCheck.Check(builtAgainst, loaded);
        Assert.NotNull(message);
        Assert.DoesNotContain('\n', message);
        Assert.Contains($"built for Microsoft.ML 6.x ({builtAgainst})", message);
        Assert.Contains($"runs Microsoft.ML {loaded}", message);
        Assert.Contains($"built for Microsoft.ML {major}.x", message);
    }

    [Fact]
    public void TheMLNetOfThisTestRunIsAccepted() => MLNetVersionCheck.Ensure();
}
