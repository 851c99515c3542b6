using Mlflow.Client.Comparison;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Comparison;

/// <summary>Issue 21 item 11: a drift check of a metric's trend gives a verdict, an exit code and a readable report, like the evaluation gate.</summary>
public sealed class DriftCheckTests
{
    // acc by start time: q 0.90, b 0.88, z 0.80, a 0.70, m 0.66 -> latest 2 mean 0.68 vs the 2 before 0.84: delta -0.16 (-19.05 %)
    private static MetricTrend Trend() => MetricTrend.FromRuns("acc",
    [
        RunTableTests.Run("a", "night-4", ("acc", 0.70), [], start: 4000),
        RunTableTests.Run("q", "night-1", ("acc", 0.90), [], start: 1000),
        RunTableTests.Run("z", "night-3", ("acc", 0.80), [], start: 3000),
        RunTableTests.Run("b", "night-2", ("acc", 0.88), [], start: 2000),
        RunTableTests.Run("m", "night-5", ("acc", 0.66), [], start: 5000),
    ]);

    [TestCase(0.15, 1)] // dropped 0.16 > 0.15 tolerated
    [TestCase(0.16000001, 0)]
    [TestCase(0.5, 0)]
    public void An_absolute_tolerance_judges_the_drop_of_a_metric_to_maximize(double tolerance, int exitCode)
    {
        var result = Trend().CheckDrift(MetricGoal.Maximize, tolerance, window: 2);
        Assert.That(result.Worsening, Is.EqualTo(0.16).Within(1e-12));
        Assert.That(result.ExitCode, Is.EqualTo(exitCode));
        Assert.That(result.Verdict, Is.EqualTo(exitCode == 1 ? GateVerdict.Regression : GateVerdict.Pass));
    }

    [Test]
    public void A_relative_tolerance_is_a_fraction_of_the_baseline_mean()
    {
        Assert.That(Trend().CheckDrift(MetricGoal.Maximize, 0.19, window: 2, relative: true).Verdict, Is.EqualTo(GateVerdict.Regression), "19.05 % > 19 %");
        Assert.That(Trend().CheckDrift(MetricGoal.Maximize, 0.20, window: 2, relative: true).Verdict, Is.EqualTo(GateVerdict.Pass));
    }

    [Test]
    public void For_a_metric_to_minimize_the_same_drop_is_an_improvement()
    {
        var result = Trend().CheckDrift(MetricGoal.Minimize, 0, window: 2);
        Assert.That(result.Worsening, Is.EqualTo(-0.16).Within(1e-12));
        Assert.That(result.Verdict, Is.EqualTo(GateVerdict.Pass));
    }

    [Test]
    public void Too_few_runs_is_incomplete_with_exit_code_2_and_says_how_many_are_needed()
    {
        var result = Trend().CheckDrift(MetricGoal.Maximize, 0.01, window: 5);
        Assert.That((result.Verdict, result.ExitCode), Is.EqualTo((GateVerdict.Incomplete, 2)));
        Assert.That(result.ToString(), Does.Contain("5 run(s) with the metric; more than 5 are needed"));
    }

    [Test]
    public void The_report_names_the_verdict_the_means_the_tolerance_and_the_runs_of_each_window()
    {
        var report = Trend().CheckDrift(MetricGoal.Maximize, 0.05, window: 2).ToString();
        Assert.That(report, Does.StartWith("Drift check of acc: REGRESSION (exit code 1)"));
        Assert.That(report, Does.Contain("latest 0.68 (mean of 2 runs) vs baseline 0.84 (mean of 2 runs): delta -0.16 (-19.05%) (higher is better, change tolerated 0.05)"));
        Assert.That(report, Does.Contain("latest:   night-4 0.7, night-5 0.66"));
        Assert.That(report, Does.Contain("baseline: night-2 0.88, night-3 0.8"));
    }

    [Test]
    public void A_negative_or_NaN_tolerance_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Trend().CheckDrift(MetricGoal.Maximize, -0.1, window: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Trend().CheckDrift(MetricGoal.Maximize, double.NaN, window: 2));
    }
}
