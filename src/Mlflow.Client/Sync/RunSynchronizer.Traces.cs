// Step 7, traces: the run's MLflow 3 traces (info and span data) and their assessments, each sent once.
using Mlflow.Client.FileStore;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    /// <summary>Assessment metadata naming the local assessment a server assessment was made from (how a sync finds it again).</summary>
    internal const string SourceAssessmentIdMetadata = "mlflow.dotnet.sourceAssessmentId";

    /// <summary>Reads the run's local traces (infos with assessments, no spans); one that cannot be read is reported by the send.</summary>
    private static void LoadTraces(LocalFileStore source, RunState state)
    {
        foreach (var traceId in source.ListRunTraceIds(state.LocalRunId))
        {
            try
            {
                state.Traces.Add(source.GetTraceInfo(traceId));
            }
            catch (MlflowException ex)
            {
                state.TraceReadErrors.Add($"Trace {traceId} could not be read from the local store: {ex.Message}");
            }
        }
    }

    /// <summary>The local traces with something the server lacks: the trace itself, or assessments.</summary>
    private static List<TraceInfo> PendingTraces(RunState s)
        => s.Traces.Where(t => !s.Journal!.Traces.TryGetValue(t.TraceId, out var entry) || !entry.Logged
            || t.Assessments.Any(a => !entry.Assessments.ContainsKey(a.AssessmentId!))).ToList();

    private static int PendingAssessments(RunState s)
        => s.Traces.Sum(t => t.Assessments.Count(a => !s.Journal!.Traces.TryGetValue(t.TraceId, out var entry) || !entry.Assessments.ContainsKey(a.AssessmentId!)));

    private async Task SendTracesAsync(LocalFileStore source, MlflowClient target, RunState s, CancellationToken ct)
    {
        s.Errors.AddRange(s.TraceReadErrors);
        var pending = PendingTraces(s);
        if (pending.Count == 0)
        {
            return;
        }

        var server = await target.GetServerInfoAsync(ct).ConfigureAwait(false);
        if (!server.SupportsLoggedModels)
        {
            s.TracesSkipped = pending.Count;
            s.TracesSkippedReason = $"traces need an MLflow 3 tracking server, and {target.TrackingUri} runs MLflow {server.Version ?? "older than 3"}; the run was pushed without its {pending.Count} traces.";
            SyncLog.TracesSkipped(_logger, s.LocalRunId, pending.Count, s.TracesSkippedReason);
            return;
        }

        foreach (var trace in pending)
        {
            ct.ThrowIfCancellationRequested();
            await SendTraceAsync(source, target, s, trace, ct).ConfigureAwait(false);
            Report(s, SyncPhase.Traces);
        }
    }

    private async Task SendTraceAsync(LocalFileStore source, MlflowClient target, RunState s, TraceInfo local, CancellationToken ct)
    {
        var journal = s.Journal!;
        if (!journal.Traces.TryGetValue(local.TraceId, out var entry))
        {
            entry = new SyncTraceEntry();
            journal.Traces[local.TraceId] = entry;
        }

        var loggedNow = false;
        if (!entry.Logged)
        {
            if (!await LogTraceAsync(source, target, s, local, ct).ConfigureAwait(false))
            {
                return;
            }

            entry.Logged = true;
            journal.Save(s.JournalPath!);
            s.TracesSent++;
            loggedNow = true;
        }

        var unsent = OverriddenFirst(local.Assessments.Where(a => !entry.Assessments.ContainsKey(a.AssessmentId!)).ToList());
        if (unsent.Count == 0)
        {
            return;
        }

        // A trace logged just now under a server run this sync created holds no assessment. Otherwise an earlier sync
        // may have sent some without recording it (no answer, stopped before the journal was saved, a lost journal, a
        // server that already had the trace): they carry the local id in their metadata.
        var held = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!(loggedNow && s.Created) || entry.AssessmentInFlight is not null)
        {
            foreach (var a in (await target.GetTraceInfoAsync(local.TraceId, ct).ConfigureAwait(false)).Assessments)
            {
                if (a.Metadata.TryGetValue(SourceAssessmentIdMetadata, out var localId) && a.AssessmentId is { } serverId)
                {
                    held.TryAdd(localId, serverId);
                }
            }
        }

        foreach (var assessment in unsent)
        {
            var localId = assessment.AssessmentId!;
            if (!held.TryGetValue(localId, out var serverId))
            {
                entry.AssessmentInFlight = localId;
                journal.Save(s.JournalPath!);
                try
                {
                    serverId = (await target.CreateAssessmentAsync(ForServer(assessment, s, entry), ct).ConfigureAwait(false)).AssessmentId!;
                }
                catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or ArgumentException)
                {
                    entry.AssessmentInFlight = null;
                    journal.Save(s.JournalPath!);
                    s.Errors.Add($"Assessment '{assessment.Name}' ({localId}) of trace {local.TraceId} was refused: {ex.Message}");
                    continue;
                }

                s.AssessmentsSent++;
            }

            entry.Assessments[localId] = serverId;
            entry.AssessmentInFlight = null;
            journal.Save(s.JournalPath!);
        }
    }

    /// <summary>
    /// Logs the trace's info and span data under the server run. Trace ids are made by the client, so a server that
    /// already holds this id (an earlier sync that got no answer, or stopped before its journal was saved) has it: the
    /// refusal is checked by reading the trace back, and its span data is written again (an upload overwrites).
    /// </summary>
    /// <returns>Whether the server now holds the trace with its span data.</returns>
    private static async Task<bool> LogTraceAsync(LocalFileStore source, MlflowClient target, RunState s, TraceInfo local, CancellationToken ct)
    {
        IReadOnlyList<TraceSpan> spans;
        try
        {
            spans = (await source.GetTraceAsync(local.TraceId, ct).ConfigureAwait(false)).Spans;
        }
        catch (MlflowException ex)
        {
            s.Errors.Add($"Trace {local.TraceId} could not be read from the local store: {ex.Message}");
            return false;
        }

        var info = ForServer(local, s);
        try
        {
            await target.LogTraceAsync(info, spans, ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or ArgumentException)
        {
            TraceInfo held;
            try
            {
                held = await target.GetTraceInfoAsync(local.TraceId, ct).ConfigureAwait(false);
            }
            catch (MlflowException missing) when (missing.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
            {
                s.Errors.Add($"Trace {local.TraceId} was refused by the server: {ex.Message}");
                return false;
            }

            if (held.ExperimentId != info.ExperimentId)
            {
                s.Errors.Add($"Trace {local.TraceId} is already on the server, in experiment {held.ExperimentId} rather than {info.ExperimentId}; it was not sent again.");
                return false;
            }

            await target.UploadTraceDataAsync(held, TraceDataJson.Serialize(local.TraceId, spans), ct).ConfigureAwait(false);
            return true;
        }
    }

    /// <summary>
    /// The assessments in their order, except that one overriding another of the list comes after it: the local store
    /// lists them by creation time then id, so an override made in the same millisecond as the original (or stamped
    /// earlier by another clock) can come first, and sent first it could not name the server's id of what it overrides.
    /// </summary>
    internal static List<Assessment> OverriddenFirst(IReadOnlyList<Assessment> assessments)
    {
        var byId = new Dictionary<string, Assessment>(StringComparer.Ordinal);
        foreach (var a in assessments)
        {
            byId.TryAdd(a.AssessmentId!, a);
        }

        var placed = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<Assessment>(assessments.Count);
        foreach (var a in assessments)
        {
            // The chain of originals up to one already placed or not in the list, placed oldest first (a cycle stops at a repeat).
            var chain = new Stack<Assessment>();
            for (var next = a; next is not null && placed.Add(next.AssessmentId!); next = next.Overrides is { } o ? byId.GetValueOrDefault(o) : null)
            {
                chain.Push(next);
            }

            result.AddRange(chain);
        }

        return result;
    }

    /// <summary>The trace as the server gets it: in the server run's experiment, linked to the server run, without the tags the local store set.</summary>
    private static TraceInfo ForServer(TraceInfo local, RunState s)
    {
        var metadata = new Dictionary<string, string>(local.Metadata, StringComparer.Ordinal) { [TraceKeys.SourceRunMetadata] = s.ServerRunId! };
        var tags = local.Tags.Where(t => t.Key is not (TraceKeys.ArtifactLocationTag or TraceKeys.SpansLocationTag)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        return local with { ExperimentId = s.Journal!.ServerExperimentId!, Metadata = metadata, Tags = tags, Assessments = [] };
    }

    /// <summary>The assessment as the server gets it: no id, the local id in its metadata, the run and the overridden assessment re-pointed to the server's.</summary>
    private Assessment ForServer(Assessment local, RunState s, SyncTraceEntry entry)
    {
        var metadata = new Dictionary<string, string>(local.Metadata, StringComparer.Ordinal) { [SourceAssessmentIdMetadata] = local.AssessmentId! };
        if (local.RunId is { } runId && (runId == s.LocalRunId ? s.ServerRunId : _serverRunIds.GetValueOrDefault(runId)) is { } serverRunId)
        {
            metadata[TraceKeys.AssessmentSourceRunMetadata] = serverRunId;
        }

        return local with
        {
            AssessmentId = null,
            Metadata = metadata,
            Overrides = local.Overrides is { } overridden ? entry.Assessments.GetValueOrDefault(overridden) : null,
            Valid = null,
        };
    }
}
