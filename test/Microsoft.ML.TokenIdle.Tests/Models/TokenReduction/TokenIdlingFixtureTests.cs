using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Training.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests.Models.TokenReduction;

public class TokenIdlingFixtureTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "micro", "idle.k0.7" }, { "micro", "idle.k0.5" }, { "deit-tiny", "idle.k0.7" }, { "deit-tiny", "idle.k0.5" },
    };

    internal static TokenReductionStrategy Strategy(FixtureSet set, string name)
        => new TokenIdlingOptions { Schedule = set.SettingList(name, "keep_ratio_per_layer") }.CreateStrategy(set.Config);

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsAndSelectedTokensMatchTheReference(string fixture, string name)
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
        Assert.Equal(set.SettingList(name, "active_tokens_per_layer").Select(v => (int)v), strategy.Plan(set.Config).Select(c => c.MlpTokens));
        foreach (var (tensor, orderReliable) in set.IndexChecks(name))
        {
            var layer = SelectionAssert.LayerOf(tensor);
            SelectionAssert.Kept(set, tensor, orderReliable, trace[layer], offset: 1, leadingClass: true);
        }
    }

    [Theory]
    [InlineData("micro", 0.7)]
    [InlineData("micro", 0.5)]
    [InlineData("deit-tiny", 0.7)]
    [InlineData("deit-tiny", 0.5)]
    public void DefaultScheduleFromTheBaseRateIsTheReferenceOne(string fixture, double k)
    {
        var set = FixtureSet.Get(fixture);
        var name = FormattableString.Invariant($"idle.k{k}");
        var schedule = new TokenIdlingOptions { KeepRatio = k }.BuildSchedule(set.Config.Depth);
        Assert.Equal(set.SettingList(name, "keep_ratio_per_layer"), schedule.Ratios);
    }

    [Fact]
    public void TrainingForwardLossPartsAndGradientsMatchTheReferenceOnMicro()
    {
        var set = FixtureSet.Get("micro");
        using var model = set.LoadModel();
        using var scope = NewDisposeScope();
        Tensor teacherLogits, teacherFeature;
        using (no_grad())
        {
            teacherFeature = model.ClassFeature(model.ForwardTokens(set.Input));
            teacherLogits = model.Head.forward(teacherFeature);
        }

        var strategy = Strategy(set, "idle_train.k0.7");
        var idleLayers = strategy.Schedule.ReducingLayers.Count();
        var objective = new IdleVitObjective { CutLoss = new CutLoss { LayerWeights = CutLoss.ReferenceLayerWeights(idleLayers) } };
        model.train();
        var trace = new TokenReductionTrace();
        var tokens = strategy.ForwardTokens(model, set.Input, trace);
        var feature = model.ClassFeature(tokens.Tokens);
        var logits = model.Head.forward(feature);
        var targets = SoftTargetCrossEntropy.Targets(set.Labels, set.Config.NumClasses);
        var loss = objective.Compute(logits, feature, targets, (teacherLogits, teacherFeature), trace);
        loss.Total.backward();

        var parameters = model.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        var checks = set.FloatChecks("idle_train.k0.7").ToList();
        Assert.Equal(parameters.Count + 8, checks.Count);
        foreach (var (name, atol) in checks)
        {
            var actual = name["idle_train.k0.7.".Length..] switch
            {
                "logits" => logits,
                "loss_total" => loss.Total,
                "loss_cls" => loss.Classification,
                "loss_cut" => loss.Cut,
                "loss_logits_kd" => loss.LogitDistillation,
                "loss_feature_kd" => loss.FeatureDistillation,
                "cut_inter_per_idle_layer" => stack(loss.CutTerms!.Inter.ToArray()),
                "cut_intra_per_idle_layer" => stack(loss.CutTerms!.Intra.ToArray()),
                var grad => parameters[grad["grad.".Length..]].grad!,
            };
            set.AssertClose(name, actual, atol);
        }
    }
}
