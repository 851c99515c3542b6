// A trace of a run (an evaluation record, a span tree captured in the run): to the store, or with the offline fallback
// into the run's local copy beside its data, which the drain and mlflow-sync push once (as a file or inputs are kept).
using Mlflow.Client.Store;
using Mlflow.Client.Tracing;

namespace Mlflow.Client;

/// <summary>Where a run's trace went: its info as stored, the store that holds it (for its assessments) and the run id there.</summary>
/// <param name="Info">The trace as stored.</param>
/// <param name="Store">The store that holds it: the tracker's, or the offline store holding the run's local copy.</param>
/// <param name="RunId">The run id in that store (the local run id in the offline copy), which its assessments name.</param>
/// <param name="OfflineDirectory">Set when the trace waits in the offline copy: the folder to give <c>mlflow-sync --from</c>.</param>
internal sealed record RunTrace(TraceInfo Info, ITrackingStore Store, string RunId, string? OfflineDirectory)
{
    /// <summary>The trace waits in the run's offline copy (sent by the drain while the tracker lives, else by <c>mlflow-sync</c>).</summary>
    public bool KeptOffline => OfflineDirectory is not null;
}

public sealed partial class MlflowTracker
{
    private int _traceKeptWarned;

    /// <summary>
    /// Logs a trace of <paramref name="run"/>, in the run's experiment and linked to it (metadata <c>mlflow.sourceRun</c>).
    /// Without the offline fallback, to the store. With it: while the run's data goes to its local copy (the run is
    /// offline, or started offline), or when the server cannot take the trace (after the HTTP pipeline's retries; a
    /// server that refuses connections is not retried), into that copy beside the run, which the drain sends when the
    /// server answers and <c>mlflow-sync</c> otherwise, once. A refusal of the trace itself is thrown.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="info">The trace's info; its experiment and run are set here.</param>
    /// <param name="spans">Its spans.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Where the trace went.</returns>
    /// <exception cref="MlflowException">The store refused the trace, or could not be reached and the trace cannot be kept offline.</exception>
    /// <exception cref="NotSupportedException">The store keeps no traces.</exception>
    internal async Task<RunTrace> LogRunTraceAsync(ActiveRun run, TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(info);
        if (_offlineLayer is null)
        {
            var logged = await _store.LogTraceAsync(ForRun(info, run.ExperimentId, run.RunId), spans, cancellationToken).ConfigureAwait(false);
            return new RunTrace(logged, _store, run.RunId, null);
        }

        if (run.Mirror is { LocalOnly: true } forgotten && !_offlineLayer.CanKeepOffline(run.Buffer))
        {
            // A run started offline that ended and was drained: its server experiment is in its sync journal, not here.
            // The trace joins its local copy, which mlflow-sync pushes (the journal tells what is already there).
            var kept = await LogToCopyAsync(_offline!.Store, forgotten.LocalRunId, info, spans, cancellationToken).ConfigureAwait(false);
            WarnTraceKept(run, kept.Info.TraceId, "the run ended and its local copy is no longer drained by this tracker");
            return kept;
        }

        RunTrace? placed = null;
        await _offlineLayer.SendOrKeepAsync(
            run.Buffer,
            async ct =>
            {
                var logged = await _store.LogTraceAsync(ForRun(info, run.ExperimentId, run.RunId), spans, ct).ConfigureAwait(false);
                placed = new RunTrace(logged, _store, run.RunId, null);
            },
            async (store, localRunId) => placed = await LogToCopyAsync(store, localRunId, info, spans, cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        if (placed!.KeptOffline)
        {
            WarnTraceKept(run, placed.Info.TraceId, run.IsOffline ? "the tracking server cannot be reached" : "the run's data is kept offline until it is sent");
        }

        return placed;
    }

    /// <summary>
    /// Logs an assessment of a trace where the trace went: to the store that holds it, or into the run's offline copy
    /// (marked for the drain, which sends it after its trace). A refusal is thrown.
    /// </summary>
    /// <param name="run">The run the trace belongs to.</param>
    /// <param name="trace">Where the trace went (<see cref="LogRunTraceAsync"/>); the assessment names its trace and run.</param>
    /// <param name="assessment">The assessment.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The assessment as stored.</returns>
    internal async Task<Assessment> LogRunAssessmentAsync(ActiveRun run, RunTrace trace, Assessment assessment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(trace);
        if (!trace.KeptOffline || _offlineLayer is null || !_offlineLayer.CanKeepOffline(run.Buffer))
        {
            return await trace.Store.CreateAssessmentAsync(assessment, cancellationToken).ConfigureAwait(false);
        }

        Assessment? stored = null;
        await _offlineLayer.KeepInCopyAsync(run.Buffer, async (store, _) => stored = await store.CreateAssessmentAsync(assessment, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return stored!;
    }

    /// <summary>The trace in the run's local copy: the local run's experiment, linked to the local run (the sync re-points both).</summary>
    private static async Task<RunTrace> LogToCopyAsync(FileStore.LocalFileStore store, string localRunId, TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
    {
        var local = await store.GetRunAsync(localRunId, cancellationToken).ConfigureAwait(false);
        var logged = await store.LogTraceAsync(ForRun(info, local.Info.ExperimentId, localRunId), spans, cancellationToken).ConfigureAwait(false);
        return new RunTrace(logged, store, localRunId, store.RootDirectory);
    }

    private static TraceInfo ForRun(TraceInfo info, string experimentId, string runId)
        => info with
        {
            ExperimentId = experimentId,
            Metadata = new Dictionary<string, string>(info.Metadata, StringComparer.Ordinal) { [TraceKeys.SourceRunMetadata] = runId },
        };

    /// <summary>Says once per tracker where kept traces are and how they reach the server; each trace at debug level.</summary>
    private void WarnTraceKept(ActiveRun run, string traceId, string why)
    {
        var directory = _offline!.Root;
        if (Interlocked.Exchange(ref _traceKeptWarned, 1) == 0)
        {
            Mlflow.Client.Offline.OfflineLog.TracesKeptOffline(Logger, run.RunId, why, directory, _store.Description);
        }

        Mlflow.Client.Offline.OfflineLog.TraceKeptOffline(Logger, traceId, run.RunId, directory);
    }
}
