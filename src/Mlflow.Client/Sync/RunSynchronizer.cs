// The sync of one run: its state, the order of the steps (one file per step), the dry run, the lock and progress.
using Microsoft.Extensions.Logging;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

/// <summary>
/// Pushes one local run to a tracking server, idempotently and resumably. One instance per sync session (it caches
/// experiment and parent-run mappings); also meant for draining a single run mid-session (offline fallback).
/// </summary>
/// <remarks>
/// <para>Identity: the server run carries tag <see cref="SourceRunIdTag"/> = local run id (set by <c>runs/create</c>
/// itself, so it can never be missing), and is found again by a search on it when the journal does not know it.</para>
/// <para>Progress: a <see cref="SyncJournal"/> per (run, server), written after each acknowledged step; metric batches
/// are recorded as in flight before they are sent, and an in-flight range is checked against the server's history
/// before any of it is sent again (file-backed servers append duplicates; SQL servers refuse a repeated NaN).</para>
/// <para>Failures: each request goes through the client once, whose retry pipeline is the only layer that sends a
/// request again (what is safe to send again, within its one budget). The sync decides from
/// <see cref="MlflowException.Kind"/> only: an item the server rejects is reported and the others go on; a request the
/// server did not apply, or whose outcome is unknown, or a server out of reach, stops this run's sync with the journal
/// consistent (an unanswered metric batch stays in flight and is checked against the server's history), to be resumed
/// by the next sync. Reading the server's state to settle a lost answer is not a retry: a lost <c>runs/create</c> is
/// looked up by its source tag, a lost metric batch by the key's history.</para>
/// </remarks>
internal sealed partial class RunSynchronizer
{
    internal const string SourceRunIdTag = "mlflow.dotnet.sourceRunId";
    internal const string SourceStoreTag = "mlflow.dotnet.sourceStore";
    internal const string ParentRunIdTag = "mlflow.parentRunId";

    private readonly MlflowClient? _target;
    private readonly string _targetKey;
    private readonly SyncOptions _settings;
    private readonly ILogger _logger;
    private readonly Dictionary<string, string> _serverRunIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _serverExperimentIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _experimentFailures = new(StringComparer.Ordinal);

    /// <param name="target">The server; <see langword="null"/> for a dry run.</param>
    /// <param name="targetKey">The server URI without credentials (names the journal file).</param>
    /// <param name="settings">Batch settings.</param>
    /// <param name="logger">Where progress is logged.</param>
    public RunSynchronizer(MlflowClient? target, string targetKey, SyncOptions settings, ILogger logger)
    {
        _target = target;
        _targetKey = targetKey;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>Receives progress reports.</summary>
    public IProgress<SyncProgress>? Progress { get; init; }

    /// <summary>Set when the last run stopped because the server gave no answer at all (unreachable), after the client's retries.</summary>
    public bool ServerUnreachable { get; private set; }

    /// <summary>
    /// Set when the last run stopped because a request was not applied, had an unknown outcome, or found the server out
    /// of reach, after the client's retries (<see cref="MlflowException.IsTransient"/>): sync again later.
    /// </summary>
    public bool LastFailureTransient { get; private set; }

    /// <summary>Syncs one run; failures are reported in the result (cancellation is thrown).</summary>
    public Task<SyncRunResult> SyncRunAsync(LocalFileStore source, string localRunId, CancellationToken cancellationToken, int runIndex = 1, int runCount = 1)
        => SendAsync(source, Read(source, localRunId, null, runIndex, runCount), cancellationToken);

    /// <summary>
    /// Reads what of the local run the server lacks (the run, its journal, its metric files from the journal's offsets),
    /// without a network call: a caller that serializes writers of the local run holds them off only for this.
    /// </summary>
    /// <param name="source">The local store.</param>
    /// <param name="localRunId">The local run.</param>
    /// <param name="journal">The run's journal when the caller holds it in memory (the offline layer); else read from disk.</param>
    /// <param name="runIndex">The run's position in this session, for progress.</param>
    /// <param name="runCount">The runs of this session, for progress.</param>
    /// <returns>The read run, to pass to <see cref="SendAsync"/>; a failure to read is reported there.</returns>
    public RunState Read(LocalFileStore source, string localRunId, SyncJournal? journal = null, int runIndex = 1, int runCount = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        var state = new RunState(localRunId, runIndex, runCount);
        try
        {
            state.RunDir = source.GetRunDirectory(localRunId);
            state.Local = source.GetRunWithoutMetrics(localRunId); // the metric files are read from the journal's offsets
            state.JournalPath = SyncJournal.PathFor(state.RunDir, _targetKey);
            state.Journal = journal ?? SyncJournal.Load(state.JournalPath);
            state.Journal.Target = _targetKey;
            LoadMetrics(source, state);
            LoadModels(source, state); // after the metric files: a model's line is written after the run's point it names
            LoadTraces(source, state);
        }
        catch (Exception ex) when (ex is MlflowException or IOException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException or ArgumentException)
        {
            state.Errors.Add(ex.Message);
        }

        return state;
    }

    /// <summary>Sends a run read by <see cref="Read"/>; failures are reported in the result (cancellation is thrown).</summary>
    public async Task<SyncRunResult> SendAsync(LocalFileStore source, RunState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(state);
        ServerUnreachable = false;
        LastFailureTransient = false;
        if (state.Errors.Count == 0)
        {
            if (_target is null)
            {
                return DryRun(state);
            }

            try
            {
                using var gate = AcquireLock(state);
                await RunAsync(source, state, _target, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MlflowException or IOException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException or ArgumentException
                                       && !cancellationToken.IsCancellationRequested)
            {
                ServerUnreachable = ex is MlflowException { StatusCode: null, IsTransient: true };
                LastFailureTransient = ex is MlflowException { IsTransient: true };
                state.Errors.Add(ex.Message);
            }
        }

        var result = state.ToResult();
        SyncLog.RunDone(_logger, state.LocalRunId, result.ServerRunId ?? "-", result.Outcome, result.Error);
        Report(state, result.Outcome == SyncRunOutcome.Failed ? SyncPhase.Failed : SyncPhase.Done);
        return result;
    }

    // ------------------------------------------------------------------ the steps

    private async Task RunAsync(LocalFileStore source, RunState s, MlflowClient target, CancellationToken ct)
    {
        var local = s.Local!;
        if (local.Info.LifecycleStage == LifecycleStage.Deleted)
        {
            throw new InvalidOperationException($"Local run {s.LocalRunId} is deleted; restore it to sync it.");
        }

        Report(s, SyncPhase.Starting);
        var experimentId = s.Journal!.PinnedExperimentId ?? await ResolveExperimentAsync(source, target, local.Info.ExperimentId, ct).ConfigureAwait(false);
        var serverRun = await FindOrCreateRunAsync(source, target, experimentId, s, ct).ConfigureAwait(false);
        s.ServerRunId = serverRun.Info.RunId;
        _serverRunIds[s.LocalRunId] = s.ServerRunId;
        s.Journal!.ServerExperimentId = experimentId;
        s.Journal.ServerRunId = s.ServerRunId;
        s.Journal.Save(s.JournalPath!);

        if (s.Models.Count > 0)
        {
            // Before any metric point goes: the points a model's metric lines name are sent with the server model's id.
            Report(s, SyncPhase.Models);
            await PrepareModelsAsync(target, s, ct).ConfigureAwait(false);
        }

        if (s.Journal.InFlight is not null)
        {
            Report(s, SyncPhase.Reconciling);
            await ReconcileInFlightAsync(target, s, fromThisSession: false, deduplicating: false, ct).ConfigureAwait(false);
        }

        Report(s, SyncPhase.Params);
        await SendParamsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Tags);
        await SendTagsAsync(source, target, s, ct).ConfigureAwait(false);
        await DeleteTagsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Metrics);
        await SendMetricsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Inputs);
        await SendInputsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Artifacts);
        await SendArtifactsAsync(target, serverRun.Info.ArtifactUri, s, ct).ConfigureAwait(false);
        if (s.PushModels)
        {
            Report(s, SyncPhase.Models);
            await SendModelFilesAsync(target, s, ct).ConfigureAwait(false);
        }

        Report(s, SyncPhase.Traces);
        await SendTracesAsync(source, target, s, ct).ConfigureAwait(false);
        if (s.Errors.Count == 0)
        {
            // Status last, and only when everything else arrived: a FINISHED run on the server means complete.
            Report(s, SyncPhase.Status);
            await SendStatusAsync(target, s, ct).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ dry run

    private SyncRunResult DryRun(RunState s)
    {
        var journal = s.Journal!;
        s.ParamsSent = s.Local!.Data.Params.Count(p => !journal.Params.TryGetValue(p.Key, out var h) || h != SyncJournal.Hash(p.Value));
        s.TagsSent = s.Local.Data.Tags.Count(t => t.Key is not (SourceRunIdTag or SourceStoreTag)
            && (!journal.Tags.TryGetValue(t.Key, out var h) || (t.Key != ParentRunIdTag && h != SyncJournal.Hash(t.Value))));
        s.MetricSent = s.MetricTotal - s.MetricDone;
        s.ArtifactsSent = PendingArtifacts(s).Count;
        s.InputsSent = s.Local.Inputs.DatasetInputs.Count(d => !journal.Inputs.Contains(InputHash(d)));
        s.TagsDeleted = journal.TagDeletes.Count(k => !s.Local.Data.Tags.Any(t => t.Key == k));
        s.TracesSent = PendingTraces(s).Count(t => !journal.Traces.TryGetValue(t.TraceId, out var entry) || !entry.Logged);
        s.AssessmentsSent = PendingAssessments(s);
        s.LoggedModelsSent = PendingModels(s).Count;
        s.StatusSent = s.Local.Info.Status != RunStatus.Running && (journal.Status != (int)s.Local.Info.Status || journal.EndTime != s.Local.Info.EndTime);
        s.ServerRunId = journal.ServerRunId;
        s.Created = journal.ServerRunId is null;
        var result = s.ToResult();
        Report(s, SyncPhase.Done);
        return result;
    }

    // ------------------------------------------------------------------ plumbing

    private FileStream AcquireLock(RunState s)
    {
        var path = Path.ChangeExtension(s.JournalPath!, ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"Another sync of run {s.LocalRunId} to {_targetKey} is running (lock file {path}).", ex);
        }
    }

    private void Report(RunState s, SyncPhase phase)
        => Progress?.Report(new SyncProgress
        {
            LocalRunId = s.LocalRunId,
            RunName = s.Local?.Info.RunName,
            RunIndex = s.RunIndex,
            RunCount = s.RunCount,
            Phase = phase,
            MetricPointsDone = s.MetricDone,
            MetricPointsTotal = s.MetricTotal,
            ArtifactsDone = s.ArtifactsSent,
            ArtifactsTotal = s.ArtifactsTotal,
        });

    /// <summary>The working state of one run's sync: what <see cref="Read"/> read, and what <see cref="SendAsync"/> sent.</summary>
    internal sealed class RunState(string localRunId, int runIndex, int runCount)
    {
        public string LocalRunId { get; } = localRunId;
        public int RunIndex { get; } = runIndex;
        public int RunCount { get; } = runCount;
        public string? RunDir { get; set; }
        public Run? Local { get; set; }
        public string? JournalPath { get; set; }
        public SyncJournal? Journal { get; set; }
        public string? ServerRunId { get; set; }
        public bool Created { get; set; }
        public Dictionary<string, LocalMetricFile> Points { get; } = new(StringComparer.Ordinal);

        /// <summary>The logged models the local run produced in the local store (MLflow 3.11.1's <c>models/m-…</c>).</summary>
        public List<LocalModel> Models { get; } = [];

        /// <summary>The READY ones' names and local artifact folders: uploaded as the run's artifacts under the name when the server has no logged models (2.x).</summary>
        public List<(string Name, string Folder)> ModelFolders { get; } = [];

        /// <summary>The server has logged models: <see cref="Models"/> are pushed as logged models.</summary>
        public bool PushModels { get; set; }

        /// <summary>The server has no logged models (2.x): <see cref="ModelFolders"/> go with the run's artifacts.</summary>
        public bool ModelsAsArtifacts { get; set; }

        public int LoggedModelsSent { get; set; }
        public long MetricTotal { get; set; }
        public long MetricDone { get; set; }
        public long MetricSent { get; set; }
        public int ParamsSent { get; set; }
        public int TagsSent { get; set; }
        public int TagsDeleted { get; set; }
        public int InputsSent { get; set; }
        public int ArtifactsTotal { get; set; }
        public int ArtifactsSent { get; set; }
        public int ArtifactsSkipped { get; set; }
        public string? ArtifactsSkippedReason { get; set; }
        public bool StatusSent { get; set; }
        public List<Tracing.TraceInfo> Traces { get; } = [];
        public List<string> TraceReadErrors { get; } = [];
        public int TracesSent { get; set; }
        public int AssessmentsSent { get; set; }
        public int TracesSkipped { get; set; }
        public string? TracesSkippedReason { get; set; }
        public List<string> Errors { get; } = [];

        public SyncRunResult ToResult()
        {
            var sentAnything = ParamsSent > 0 || TagsSent > 0 || TagsDeleted > 0 || MetricSent > 0 || InputsSent > 0 || ArtifactsSent > 0 || TracesSent > 0 || AssessmentsSent > 0 || LoggedModelsSent > 0 || StatusSent;
            return new SyncRunResult
            {
                LocalRunId = LocalRunId,
                ServerRunId = ServerRunId,
                Outcome = Errors.Count > 0 ? SyncRunOutcome.Failed
                    : Created ? SyncRunOutcome.Created
                    : sentAnything ? SyncRunOutcome.Resumed
                    : SyncRunOutcome.UpToDate,
                ParamsSent = ParamsSent,
                TagsSent = TagsSent,
                MetricPointsSent = MetricSent,
                ArtifactsSent = ArtifactsSent,
                ArtifactsSkipped = ArtifactsSkipped,
                ArtifactsSkippedReason = ArtifactsSkippedReason,
                TracesSent = TracesSent,
                AssessmentsSent = AssessmentsSent,
                LoggedModelsSent = LoggedModelsSent,
                TracesSkipped = TracesSkipped,
                TracesSkippedReason = TracesSkippedReason,
                Error = Errors.Count == 0 ? null : string.Join(" | ", Errors),
                MetricBytesRead = Points.Values.Sum(p => p.BytesRead),
            };
        }
    }
}
