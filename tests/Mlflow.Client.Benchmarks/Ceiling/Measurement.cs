using System.Globalization;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>One configuration measured once: how many points the server acknowledged, how fast, and what it reads back.</summary>
/// <param name="Figure">The machine-readable name (<c>ceiling.1conn</c>, <c>tracker.4runs</c>...).</param>
/// <param name="Points">Points logged (and, unless <see cref="Error"/>, acknowledged).</param>
/// <param name="Seconds">From the first request or log call until the server acknowledged the last point.</param>
/// <param name="ReadBack">What runs/get and metrics/get-history answered afterwards.</param>
/// <param name="Complete">Every run reads back all its points and its last step.</param>
/// <param name="Error">Why the configuration did not finish, when it did not.</param>
/// <param name="ClientCpuSeconds">CPU time this process used over <see cref="Seconds"/> (all its threads): on a machine
/// the server shares, what the client takes from it.</param>
internal sealed record Measurement(string Figure, long Points, double Seconds, string ReadBack, bool Complete, string? Error = null, double ClientCpuSeconds = double.NaN)
{
    /// <summary>This process's CPU time so far (user and system, all threads).</summary>
    public static TimeSpan ProcessCpu() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    public double PointsPerSecond => Error is null && Seconds > 0 ? Points / Seconds : double.NaN;

    public static Measurement Failed(string figure, long points, Exception ex) =>
        new(figure, points, double.NaN, "-", false, ex.ToString());

    /// <summary>Reads back each run's history count of the metric and its latest step (runs/get) after a configuration.</summary>
    public static async Task<(string Summary, bool Complete)> ReadBackAsync(MlflowClient client, IReadOnlyList<string> runIds, long pointsPerRun, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        var complete = true;
        foreach (var runId in runIds)
        {
            var history = await client.GetMetricHistoryAsync(runId, CeilingSettings.MetricKey, cancellationToken);
            var run = await client.GetRunAsync(runId, cancellationToken);
            var latest = run.Data.Metrics.FirstOrDefault(m => m.Key == CeilingSettings.MetricKey);
            var distinctSteps = history.Select(m => m.Step).Distinct().LongCount();
            var ok = history.Count == pointsPerRun && distinctSteps == pointsPerRun && latest?.Step == pointsPerRun - 1;
            complete &= ok;
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{history.Count}/{pointsPerRun} pts, last step {latest?.Step.ToString(CultureInfo.InvariantCulture) ?? "none"}{(ok ? "" : " LOST/EXTRA")}"));
        }

        var summary = parts.Distinct(StringComparer.Ordinal).Count() == 1 && parts.Count > 1
            ? $"{parts.Count} runs x {parts[0]}"
            : string.Join("; ", parts);
        return (summary, complete);
    }
}
