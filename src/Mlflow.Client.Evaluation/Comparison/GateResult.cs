using System.Globalization;
using System.Text;

namespace Mlflow.Client.Comparison;

/// <summary>What an <see cref="EvaluationGate"/> found.</summary>
public sealed class GateResult
{
    internal GateResult(IReadOnlyList<MetricComparison> comparisons, bool noBaseline = false)
    {
        Comparisons = comparisons;
        NoBaseline = noBaseline;
    }

    /// <summary>Every metric checked, in the gate's order.</summary>
    public IReadOnlyList<MetricComparison> Comparisons { get; }

    /// <summary>The metrics that regressed beyond their tolerance.</summary>
    public IReadOnlyList<MetricComparison> Regressions => Comparisons.Where(c => c.Regressed).ToList();

    /// <summary>The metrics missing (or NaN) in the candidate or the baseline.</summary>
    public IReadOnlyList<MetricComparison> Missing => NoBaseline ? [] : Comparisons.Where(c => c.Missing).ToList();

    /// <summary>
    /// <see cref="GateVerdict.Incomplete"/> when a metric is missing (an evaluation that could not be judged fails CI as an
    /// error, even when another metric regressed), else <see cref="GateVerdict.Regression"/> when one regressed, else
    /// <see cref="GateVerdict.Pass"/>. With no baseline at all (the alias does not exist yet) the candidate passes when it
    /// has every metric.
    /// </summary>
    public GateVerdict Verdict => NoBaseline
        ? (Comparisons.Any(c => c.Candidate is null) ? GateVerdict.Incomplete : GateVerdict.Pass)
        : Missing.Count > 0 ? GateVerdict.Incomplete : Regressions.Count > 0 ? GateVerdict.Regression : GateVerdict.Pass;

    /// <summary>The process exit code: 0 pass, 1 regression, 2 missing metric.</summary>
    public int ExitCode => (int)Verdict;

    /// <summary>Whether the candidate should replace the baseline: it passes and its primary (first) metric is strictly better, or there is no baseline.</summary>
    public bool CandidateWins => Verdict == GateVerdict.Pass && (NoBaseline || Comparisons[0].Improved);

    /// <summary>Whether there was no baseline (the alias did not exist).</summary>
    public bool NoBaseline { get; }

    /// <summary>The candidate run, when runs were compared.</summary>
    public string? CandidateRunId { get; internal set; }

    /// <summary>The baseline run, when runs were compared.</summary>
    public string? BaselineRunId { get; internal set; }

    /// <summary>The model version the alias pointed at, when the baseline came from an alias.</summary>
    public string? BaselineVersion { get; internal set; }

    /// <summary>Whether the alias was moved to the candidate's version.</summary>
    public bool AliasMoved { get; internal set; }

    /// <summary>The registered model and alias of an alias comparison (for the report).</summary>
    internal (string ModelName, string Alias)? AliasTarget { get; set; }

    /// <summary>The version the alias was to move to when the candidate won (for the report); <see langword="null"/> when none was given.</summary>
    internal string? CandidateVersion { get; set; }

    /// <summary>
    /// A readable report: the verdict, then one line per metric with both values and the delta, then, when the gate was
    /// given a candidate version to promote, whether the alias moved (from which version to which) or why not.
    /// </summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Evaluation gate: {Verdict.ToString().ToUpperInvariant()} (exit code {ExitCode})");
        if (NoBaseline)
        {
            sb.Append(" - no baseline");
        }

        sb.AppendLine();
        foreach (var c in Comparisons)
        {
            var state = c.Missing ? (NoBaseline && c.Candidate is not null ? "no baseline" : "MISSING") : c.Regressed ? "REGRESSED" : c.Improved ? "improved" : "ok";
            var better = c.Criterion.Goal == MetricGoal.Maximize ? "higher is better" : "lower is better";
            sb.Append(CultureInfo.InvariantCulture, $"  {c.Criterion.Metric}: candidate {Num(c.Candidate)}, baseline {Num(c.Baseline)}, delta {Num(c.Delta)} ({better}, tolerance {c.Criterion.Tolerance.ToString("G6", CultureInfo.InvariantCulture)}) {state}");
            sb.AppendLine();
        }

        if (AliasTarget is var (model, alias) && CandidateVersion is { } version)
        {
            var was = BaselineVersion is null ? "it did not exist" : "was version " + BaselineVersion;
            sb.Append(AliasMoved
                ? $"Alias moved: {model}@{alias} now points at version {version} ({was})."
                : $"Alias not moved: {model}@{alias} {(BaselineVersion is null ? "was not set" : "stays on version " + BaselineVersion)} ({WhyNotMoved(version)}).");
            sb.AppendLine();
        }

        return sb.ToString();
    }

    private string WhyNotMoved(string version)
        => version == BaselineVersion ? "it already points at the candidate's version"
            : Verdict != GateVerdict.Pass ? "the candidate did not pass"
            : "the candidate did not win: its first metric is not strictly better";

    private static string Num(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "-";
}
