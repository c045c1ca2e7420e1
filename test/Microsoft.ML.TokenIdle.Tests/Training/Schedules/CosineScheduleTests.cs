using Microsoft.ML.TokenIdle.Training.Schedules;

namespace Microsoft.ML.TokenIdle.Tests.Training.Schedules;

public class CosineScheduleTests
{
    [Theory]
    [InlineData(0, 0.25)]
    [InlineData(3, 1.0)]
    [InlineData(4, 1.0)]
    [InlineData(9, 0.55)]
    [InlineData(14, 0.1)]
    [InlineData(20, 0.1)]
    public void WarmUpThenCosineToTheFloor(long step, double rate)
    {
        // 4 warm-up steps, then 10 steps of cosine from 1 to 0.1: halfway (step 9) is 0.55.
        var schedule = new CosineSchedule(1.0, 14, 4, 0.1);
        // float64 arithmetic of the same formula (the C library's cosine may round its last bit differently per CPU).
        Assert.Equal(rate, schedule.RateAt(step), 1e-12);
    }

    [Fact]
    public void BadSettingsAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new CosineSchedule(1.0, 10, 20));
        Assert.Contains("warm-up 20", e.Message);
    }
}
