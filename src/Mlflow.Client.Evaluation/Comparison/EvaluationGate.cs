namespace Mlflow.Client.Comparison;

/// <summary>One metric a gate checks.</summary>
/// <param name="Metric">The metric key (for example <c>f1_score</c>).</param>
/// <param name="Goal">Whether higher or lower is better.</param>
/// <param name="Tolerance">How much worse than the baseline the candidate may be (absolute, ≥ 0) before it counts as a regression.</param>
public sealed record MetricCriterion(string Metric, MetricGoal Goal = MetricGoal.Maximize, double Tolerance = 0);

/// <summary>The verdict of a gate, with its process exit code as value.</summary>
public enum GateVerdict
{
    /// <summary>No metric regressed beyond its tolerance (exit code 0).</summary>
    Pass = 0,
    /// <summary>At least one metric regressed beyond its tolerance (exit code 1).</summary>
    Regression = 1,
    /// <summary>A metric is missing (or NaN) in the candidate or the baseline, so the gate cannot judge (exit code 2).</summary>
    Incomplete = 2,
}

/// <summary>One metric of a gate's comparison.</summary>
/// <param name="Criterion">What was checked.</param>
/// <param name="Candidate">The candidate's latest value, or <see langword="null"/> when missing.</param>
/// <param name="Baseline">The baseline's latest value, or <see langword="null"/> when missing.</param>
public sealed record MetricComparison(MetricCriterion Criterion, double? Candidate, double? Baseline)
{
    /// <summary>Candidate minus baseline; <see langword="null"/> when either is missing.</summary>
    public double? Delta => Candidate - Baseline;

    /// <summary>Whether either side lacks the metric.</summary>
    public bool Missing => Candidate is null || Baseline is null;

    /// <summary>Whether the candidate is worse than the baseline by more than the tolerance.</summary>
    public bool Regressed => !Missing && (Criterion.Goal == MetricGoal.Maximize
        ? Candidate < Baseline - Criterion.Tolerance
        : Candidate > Baseline + Criterion.Tolerance);

    /// <summary>Whether the candidate is strictly better than the baseline.</summary>
    public bool Improved => !Missing && (Criterion.Goal == MetricGoal.Maximize ? Candidate > Baseline : Candidate < Baseline);
}

/// <summary>
/// An evaluation gate for CI: compares a candidate run's latest metrics with a baseline's (a run, or the run behind a
/// registered model's alias such as <c>champion</c>), each metric with its direction and tolerance.
/// </summary>
public sealed class EvaluationGate
{
    /// <summary>Creates a gate.</summary>
    /// <param name="criteria">The metrics to check; the first is the primary metric that decides whether the candidate wins.</param>
    /// <exception cref="ArgumentException">No criterion, a repeated metric, or a negative or NaN tolerance.</exception>
    public EvaluationGate(IEnumerable<MetricCriterion> criteria)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        Criteria = criteria.ToList();
        if (Criteria.Count == 0)
        {
            throw new ArgumentException("A gate needs at least one metric.", nameof(criteria));
        }

        if (Criteria.Select(c => c.Metric).Distinct(StringComparer.Ordinal).Count() != Criteria.Count)
        {
            throw new ArgumentException("A metric is listed twice.", nameof(criteria));
        }

        if (Criteria.Any(c => !(c.Tolerance >= 0)))
        {
            throw new ArgumentException("Tolerances must be 0 or more.", nameof(criteria));
        }
    }

    /// <summary>The metrics checked, the primary first.</summary>
    public IReadOnlyList<MetricCriterion> Criteria { get; }

    /// <summary>Compares two sets of metric values.</summary>
    /// <param name="candidate">The candidate's values.</param>
    /// <param name="baseline">The baseline's values.</param>
    /// <returns>The result.</returns>
    public GateResult Compare(IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double> baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        var comparisons = Criteria.Select(c => new MetricComparison(c, Value(candidate, c.Metric), Value(baseline, c.Metric))).ToList();
        return new GateResult(comparisons);
    }

    /// <summary>Compares the latest metrics of two runs.</summary>
    /// <param name="candidate">The candidate run.</param>
    /// <param name="baseline">The baseline run.</param>
    /// <returns>The result, with both run ids.</returns>
    public GateResult Compare(Run candidate, Run baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        var result = Compare(RunTable.LatestMetrics(candidate), RunTable.LatestMetrics(baseline));
        result.CandidateRunId = candidate.Info.RunId;
        result.BaselineRunId = baseline.Info.RunId;
        return result;
    }

    private static double? Value(IReadOnlyDictionary<string, double> values, string metric)
        => values.TryGetValue(metric, out var v) && !double.IsNaN(v) ? v : null;
}
