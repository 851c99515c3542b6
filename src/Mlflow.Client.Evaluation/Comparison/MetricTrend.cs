using System.Globalization;

namespace Mlflow.Client.Comparison;

/// <summary>One run's value of a metric in a trend.</summary>
/// <param name="RunId">The run.</param>
/// <param name="RunName">Its name.</param>
/// <param name="RunStart">When it started.</param>
/// <param name="Value">The metric's latest value in that run.</param>
public sealed record TrendPoint(string RunId, string? RunName, DateTimeOffset RunStart, double Value);

/// <summary>How the latest runs compare with the runs before them.</summary>
/// <param name="BaselineMean">The mean over the baseline window.</param>
/// <param name="LatestMean">The mean over the latest window.</param>
/// <param name="BaselineCount">Runs in the baseline window.</param>
/// <param name="LatestCount">Runs in the latest window.</param>
public sealed record TrendChange(double BaselineMean, double LatestMean, int BaselineCount, int LatestCount)
{
    /// <summary>Latest mean minus baseline mean.</summary>
    public double Delta => LatestMean - BaselineMean;

    /// <summary><see cref="Delta"/> over the magnitude of the baseline mean (NaN when the baseline mean is 0).</summary>
    public double RelativeChange => BaselineMean == 0 ? double.NaN : Delta / Math.Abs(BaselineMean);

    /// <summary>
    /// One readable line, values to 6 significant digits: <c>latest 0.8125 (mean of 3 runs) vs baseline 0.825 (mean of 3
    /// runs): delta -0.0125 (-1.52%)</c> (no percentage when the baseline mean is 0).
    /// </summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var relative = double.IsNaN(RelativeChange) ? "" : " (" + (RelativeChange * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%)";
        return $"latest {Num(LatestMean)} ({Runs(LatestCount)}) vs baseline {Num(BaselineMean)} ({Runs(BaselineCount)}): delta {(Delta > 0 ? "+" : "")}{Num(Delta)}{relative}";

        static string Runs(int count) => count == 1 ? "mean of 1 run" : "mean of " + count.ToString(CultureInfo.InvariantCulture) + " runs";
    }

    private static string Num(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>The series (run start time, value) of one metric over the runs of an experiment, oldest first, for drift checks of scheduled evaluations.</summary>
public sealed class MetricTrend
{
    private MetricTrend(string metric, IReadOnlyList<TrendPoint> points)
    {
        Metric = metric;
        Points = points;
    }

    /// <summary>The metric key.</summary>
    public string Metric { get; }

    /// <summary>The points, by run start time (oldest first); runs without the metric, a NaN value or a start time are left out.</summary>
    public IReadOnlyList<TrendPoint> Points { get; }

    /// <summary>Builds a trend from runs.</summary>
    /// <param name="metric">The metric key.</param>
    /// <param name="runs">The runs.</param>
    /// <returns>The trend.</returns>
    public static MetricTrend FromRuns(string metric, IEnumerable<Run> runs)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(runs);
        var points = new List<TrendPoint>();
        foreach (var run in runs)
        {
            if (run.Info.StartTime is { } start && RunTable.LatestMetrics(run).TryGetValue(metric, out var value) && !double.IsNaN(value))
            {
                points.Add(new TrendPoint(run.Info.RunId, run.Info.RunName, DateTimeOffset.FromUnixTimeMilliseconds(start), value));
            }
        }

        return new MetricTrend(metric, points.OrderBy(p => p.RunStart).ThenBy(p => p.RunId, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// The mean of the latest <paramref name="window"/> runs against the mean of the <paramref name="baselineWindow"/>
    /// runs just before them.
    /// </summary>
    /// <param name="window">Runs in the latest window (at least 1).</param>
    /// <param name="baselineWindow">Runs in the baseline window (default: <paramref name="window"/>); fewer are used when the series is short.</param>
    /// <returns>The change, or <see langword="null"/> when there are not more points than <paramref name="window"/>.</returns>
    public TrendChange? Change(int window, int? baselineWindow = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var baselineSize = baselineWindow ?? window;
        ArgumentOutOfRangeException.ThrowIfLessThan(baselineSize, 1, nameof(baselineWindow));
        if (Points.Count <= window)
        {
            return null;
        }

        var latest = Points.Skip(Points.Count - window).ToList();
        var baselineStart = Math.Max(0, Points.Count - window - baselineSize);
        var baseline = Points.Skip(baselineStart).Take(Points.Count - window - baselineStart).ToList();
        return new TrendChange(baseline.Average(p => p.Value), latest.Average(p => p.Value), baseline.Count, latest.Count);
    }

    /// <summary>
    /// Checks for drift: the mean of the latest <paramref name="window"/> runs against the runs before them
    /// (<see cref="Change"/>), judged by the metric's <paramref name="goal"/> and the change tolerated in the bad
    /// direction. The result has a verdict, an exit code (0 pass, 1 drift, 2 not enough runs) and a readable report.
    /// </summary>
    /// <param name="goal">Whether higher or lower values are better.</param>
    /// <param name="tolerance">The change in the bad direction tolerated (0 or more): a difference of values, or a fraction of the baseline mean when <paramref name="relative"/>.</param>
    /// <param name="window">Runs in the latest window (at least 1).</param>
    /// <param name="baselineWindow">Runs in the baseline window (default: <paramref name="window"/>).</param>
    /// <param name="relative">Whether <paramref name="tolerance"/> is a fraction of the baseline mean (0.02 = 2 %).</param>
    /// <returns>The verdict with its report.</returns>
    public DriftResult CheckDrift(MetricGoal goal, double tolerance, int window, int? baselineWindow = null, bool relative = false)
    {
        if (!(tolerance >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance is a change of 0 or more.");
        }

        return new DriftResult(this, goal, tolerance, relative, window, Change(window, baselineWindow));
    }
}
