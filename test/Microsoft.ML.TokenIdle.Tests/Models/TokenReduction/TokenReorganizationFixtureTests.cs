using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

public class TokenReorganizationFixtureTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "micro", "evit.r0.7" }, { "micro", "evit_fuse.r0.7" }, { "micro", "evit_fuse.r0.5" },
        { "deit-tiny", "evit.r0.7" }, { "deit-tiny", "evit_fuse.r0.7" }, { "deit-tiny", "evit_fuse.r0.5" },
    };

    internal static TokenReductionStrategy Strategy(FixtureSet set, string name)
        => new TokenReorganizationOptions
        {
            FuseInattentive = set.Settings(name).GetProperty("fuse_token").GetBoolean(),
            Schedule = set.SettingList(name, "keep_rate_per_layer"),
        }.CreateStrategy(set.Config);

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsKeptTokensAndCountsMatchTheReference(string fixture, string name)
    {
        var set = FixtureSet.Get(fixture);
        var strategy = Strategy(set, name);
        var trace = new TokenReductionTrace();
        using var model = set.LoadModel();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = strategy.Forward(model, set.Input, trace);

        var (logitsName, atol) = set.FloatChecks(name).Single();
        set.AssertClose(logitsName, logits, atol);
        Assert.Equal(set.SettingList(name, "tokens_out_per_layer").Select(v => (int)v), strategy.Plan(set.Config).Select(c => c.TokensOut));

        var checks = set.IndexChecks(name).ToList();
        Assert.Equal(6, checks.Count);
        foreach (var (tensor, orderReliable) in checks)
        {
            var record = trace[SelectionAssert.LayerOf(tensor)];
            if (tensor.Contains(".idx.", StringComparison.Ordinal))
            {
                SelectionAssert.Kept(set, tensor, orderReliable, record, offset: 0, leadingClass: false);
            }
            else
            {
                SelectionAssert.Sources(set, tensor, record);
            }
        }
    }

    [Fact]
    public void FusedGradientsMatchTheReferenceOnMicro()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        var strategy = Strategy(set, "evit_fuse.r0.7");
        model.train();
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(strategy.Forward(model, set.Input), tensor(set.Labels.Select(l => (long)l).ToArray()));
        loss.backward();
        var parameters = model.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        var checks = set.FloatChecks("evit_fuse.r0.7.grad").ToList();
        Assert.Equal(parameters.Count + 1, checks.Count);
        foreach (var (name, atol) in checks)
        {
            var actual = name == "evit_fuse.r0.7.loss_ce" ? loss : parameters[name["evit_fuse.r0.7.grad.".Length..]].grad!;
            set.AssertClose(name, actual, atol);
        }
    }

    [Fact]
    public void DefaultScheduleForTwelveLayersIsTheReferenceOne()
    {
        var set = FixtureSet.Get("deit-tiny");
        var schedule = new TokenReorganizationOptions { KeepRatio = 0.7 }.BuildSchedule(set.Config.Depth);
        Assert.Equal(set.SettingList("evit.r0.7", "keep_rate_per_layer"), schedule.Ratios);
    }
}
