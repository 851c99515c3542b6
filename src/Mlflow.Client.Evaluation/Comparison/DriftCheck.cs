using System.Globalization;
using System.Text;

namespace Mlflow.Client.Comparison;

/// <summary>
/// What a drift check of a <see cref="MetricTrend"/> found (<see cref="MetricTrend.CheckDrift"/>): the latest runs
/// against the runs before them, judged by the metric's goal and the change tolerated, with an exit code for a nightly
/// job, as <see cref="GateResult"/> gives one for a gate.
/// </summary>
public sealed class DriftResult
{
    internal DriftResult(MetricTrend trend, MetricGoal goal, double tolerance, bool relativeTolerance, int window, TrendChange? change)
    {
        Trend = trend;
        Goal = goal;
        Tolerance = tolerance;
        RelativeTolerance = relativeTolerance;
        Window = window;
        Change = change;
    }

    /// <summary>The series checked.</summary>
    public MetricTrend Trend { get; }

    /// <summary>Whether higher or lower values are better.</summary>
    public MetricGoal Goal { get; }

    /// <summary>The change in the bad direction tolerated: absolute, or a fraction of the baseline mean when <see cref="RelativeTolerance"/>.</summary>
    public double Tolerance { get; }

    /// <summary>Whether <see cref="Tolerance"/> is a fraction of the baseline mean (0.02 = 2 %) rather than a difference of values.</summary>
    public bool RelativeTolerance { get; }

    /// <summary>Runs in the latest window.</summary>
    public int Window { get; }

    /// <summary>The change, or <see langword="null"/> when the series has no more runs than the window (nothing to compare with).</summary>
    public TrendChange? Change { get; }

    /// <summary>How far the latest mean moved in the bad direction (0 or less when it held or improved), in the tolerance's unit.</summary>
    public double Worsening => Change is not { } c ? double.NaN
        : (Goal == MetricGoal.Maximize ? -1 : 1) * (RelativeTolerance ? c.RelativeChange : c.Delta);

    /// <summary>
    /// <see cref="GateVerdict.Incomplete"/> when there is nothing to compare with (or a relative tolerance over a zero
    /// baseline), <see cref="GateVerdict.Regression"/> when the latest mean moved in the bad direction by more than the
    /// tolerance, else <see cref="GateVerdict.Pass"/>.
    /// </summary>
    public GateVerdict Verdict => double.IsNaN(Worsening) ? GateVerdict.Incomplete : Worsening > Tolerance ? GateVerdict.Regression : GateVerdict.Pass;

    /// <summary>The process exit code: 0 pass, 1 drift beyond the tolerance, 2 not enough runs.</summary>
    public int ExitCode => (int)Verdict;

    /// <summary>
    /// A readable report: the verdict, the means compared with the delta, the tolerance, and the runs of each window with
    /// their values.
    /// </summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Drift check of {Trend.Metric}: {Verdict.ToString().ToUpperInvariant()} (exit code {ExitCode})").AppendLine();
        var better = Goal == MetricGoal.Maximize ? "higher is better" : "lower is better";
        var tolerated = RelativeTolerance ? (Tolerance * 100).ToString("0.##", CultureInfo.InvariantCulture) + "% of the baseline" : Num(Tolerance);
        if (Change is not { } change)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {Trend.Points.Count} run(s) with the metric; more than {Window} are needed to compare the latest {Window} with the runs before them.").AppendLine();
            return sb.ToString();
        }

        sb.Append(CultureInfo.InvariantCulture, $"  {change} ({better}, change tolerated {tolerated})").AppendLine();
        var latest = Trend.Points.Skip(Trend.Points.Count - change.LatestCount).ToList();
        var baseline = Trend.Points.Skip(Trend.Points.Count - change.LatestCount - change.BaselineCount).Take(change.BaselineCount).ToList();
        sb.Append("  latest:   ").AppendJoin(", ", latest.Select(Describe)).AppendLine();
        sb.Append("  baseline: ").AppendJoin(", ", baseline.Select(Describe)).AppendLine();
        return sb.ToString();

        static string Describe(TrendPoint p) => $"{p.RunName ?? p.RunId} {Num(p.Value)}";
    }

    private static string Num(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
