using Mlflow.Client.Comparison;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Comparison;

public sealed class MetricTrendTests
{
    [Test]
    public void The_series_is_ordered_by_run_start_and_the_latest_window_is_compared_with_the_one_before()
    {
        var trend = MetricTrend.FromRuns("acc",
        [
            RunTableTests.Run("a", null, ("acc", 0.70), [], start: 4000),
            RunTableTests.Run("q", null, ("acc", 0.90), [], start: 1000),
            RunTableTests.Run("z", null, ("acc", 0.80), [], start: 3000),
            RunTableTests.Run("b", null, ("acc", 0.88), [], start: 2000),
            RunTableTests.Run("x", null, ("other", 1.0), [], start: 2500),
            RunTableTests.Run("m", null, ("acc", 0.66), [], start: 5000),
        ]);

        // run ids deliberately not in start order
        Assert.That(trend.Points.Select(p => p.RunId), Is.EqualTo(new[] { "q", "b", "z", "a", "m" }));
        Assert.That(trend.Points[0].RunStart, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(1000)));
        // latest 2: (0.70 + 0.66)/2 = 0.68; the 2 before: (0.88 + 0.80)/2 = 0.84; delta -0.16, relative -0.16/0.84
        var change = trend.Change(2)!;
        Assert.That(change.LatestMean, Is.EqualTo(0.68).Within(1e-12));
        Assert.That(change.BaselineMean, Is.EqualTo(0.84).Within(1e-12));
        Assert.That(change.Delta, Is.EqualTo(-0.16).Within(1e-12));
        Assert.That(change.RelativeChange, Is.EqualTo(-0.16 / 0.84).Within(1e-12));
        // latest 1 against the 3 before: 0.66 vs (0.88 + 0.80 + 0.70)/3
        var wide = trend.Change(1, 3)!;
        Assert.That(wide.BaselineCount, Is.EqualTo(3));
        Assert.That(wide.BaselineMean, Is.EqualTo(2.38 / 3).Within(1e-12));
        // a short series uses what there is; no point before the window -> null
        Assert.That(trend.Change(4, 3)!.BaselineCount, Is.EqualTo(1));
        Assert.That(trend.Change(5), Is.Null);
    }

    [Test]
    public void A_change_prints_as_a_readable_line_not_a_raw_record()
    {
        // 0.8125 - 0.825 in binary floating point is -0.012500000000000067: shown rounded, with the windows and the relative change.
        var change = new TrendChange(BaselineMean: 0.825, LatestMean: 0.8125, BaselineCount: 3, LatestCount: 2);
        Assert.That(change.Delta, Is.Not.EqualTo(-0.0125), "the premise: the raw delta has binary noise");

        Assert.That(change.ToString(), Is.EqualTo("latest 0.8125 (mean of 2 runs) vs baseline 0.825 (mean of 3 runs): delta -0.0125 (-1.52%)"));
        Assert.That(new TrendChange(0, 0.5, 1, 1).ToString(), Is.EqualTo("latest 0.5 (mean of 1 run) vs baseline 0 (mean of 1 run): delta +0.5"));
        Assert.That(new TrendChange(0.9, 0.9, 4, 4).ToString(), Does.EndWith("delta 0 (0%)"));
    }

    [Test]
    public async Task The_tracker_reads_a_trend_from_its_local_store()
    {
        using var dir = new OfflineFallbackTests.Dir();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "nightly" });
        foreach (var value in new[] { 0.9, 0.8 })
        {
            await using var run = tracker.StartRun();
            run.LogMetric("acc", value);
        }

        await using (var run = tracker.StartRun())
        {
            run.LogMetric("loss", 1);
        }

        var trend = await tracker.GetMetricTrendAsync("nightly", "acc");

        Assert.That(trend.Points.Select(p => p.Value), Is.EquivalentTo(new[] { 0.9, 0.8 }));
        Assert.That(tracker.GetMetricTrend("nightly", "acc", "metrics.acc < 0.85").Points.Single().Value, Is.EqualTo(0.8));
    }
}
