using System.Text.Json;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

public class MacsCommandTests
{
    [Theory]
    [InlineData("full", 4.6)]
    [InlineData("idle", 3.1)]
    [InlineData("evit-fuse", 3.0)]
    public void MacsPrintsThePaperFigureAndTheExecutedOne(string method, double gmacs)
    {
        var (code, stdout, stderr) = CliRunner.Run("macs", "--model", "deit-small", "--method", method, "--keep-rate", "0.7");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(method, root.GetProperty("method").GetString());
        Assert.Equal(gmacs, root.GetProperty("paper_gmacs").GetDouble(), 0.1);
        Assert.True(root.GetProperty("executed_gmacs").GetDouble() >= root.GetProperty("paper_gmacs").GetDouble());
        Assert.Equal(12, root.GetProperty("tokens_per_layer").GetArrayLength());
    }

    [Fact]
    public void BenchReportsTheMethodAndItsMacs()
    {
        var set = FixtureSet.Get("micro");
        var (code, stdout, stderr) = CliRunner.Run("bench", "--config", set.ConfigPath, "--batch", "2", "--seconds", "0.2", "--threads", "1", "--method", "idle", "--keep-rate", "0.5");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("idle", json.RootElement.GetProperty("method").GetString());
        Assert.True(json.RootElement.GetProperty("paper_gmacs").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("images_per_second").GetDouble() > 0);
    }
}
