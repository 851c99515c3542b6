using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.Batching;
using Mlflow.Client.Offline;
using Mlflow.Client.Resilience;
using Mlflow.Client.Store;
using Mlflow.Client.Sync;

namespace Mlflow.Client;

/// <summary>
/// The fluent tracking API: starts runs in an experiment and sends what they log in the background, in batches.
/// Create one per process (<see cref="Create"/>) and dispose it at the end; it is thread-safe.
/// </summary>
/// <remarks>
/// <para>System tags are set as MLflow's Python <c>start_run()</c> does: <c>mlflow.user</c>, <c>mlflow.source.name</c>
/// (the entry assembly), <c>mlflow.source.type</c> = <c>LOCAL</c>, <c>mlflow.source.git.commit</c> (when the entry
/// assembly is inside a git tree), <c>mlflow.runName</c> and <c>mlflow.parentRunId</c> for child runs.</para>
/// <para>On process exit, Ctrl+C (SIGINT), SIGTERM and SIGHUP (what <c>docker stop</c>, Kubernetes, systemd and CI runners
/// send), runs still active are flushed to the server or the offline copy (bounded by
/// <see cref="MlflowBatchingOptions.ShutdownTimeout"/>) and ended as KILLED; then the signal takes its default course and
/// the process ends with status 128 + signal (130, 143, 129). The tracker never cancels a signal nor exits the process
/// itself.</para>
/// <para>Under the generic host, whose lifetime cancels SIGTERM and SIGINT to stop the application gracefully, .NET calls
/// the most recently registered handler first. A tracker created after the host started (from dependency injection, say)
/// ends its runs KILLED first, then the host stops as usual with its own exit code; logging to those runs afterwards
/// throws <see cref="InvalidOperationException"/>. A tracker created before the host started is not called for those
/// signals: end its runs in the application's shutdown (dispose the tracker when the host stops); process exit ends what
/// is left. On Windows, process exit, Ctrl+C and Ctrl+Break are hooked.</para>
/// </remarks>
public sealed class MlflowTracker : IDisposable, IAsyncDisposable
{
    private readonly ITrackingStore _store;
    private readonly bool _ownsStore;
    private readonly LogBatcher _batcher;
    private readonly MlflowTrackerOptions _options;
    private readonly EnvironmentReader _env;
    private readonly string _user;
    private readonly SemaphoreSlim _experimentLock = new(1, 1);
    private readonly ConcurrentDictionary<string, byte> _truncationWarned = new(StringComparer.Ordinal);
    private readonly object _runsLock = new();
    private readonly List<ActiveRun> _activeRuns = [];
    private readonly ProcessShutdownHooks? _processHooks;
    private readonly OfflineMirror? _offline;
    private readonly ConcurrentDictionary<string, string> _experimentNames = new(StringComparer.Ordinal) { ["0"] = "Default" };
    private string? _experimentId;
    private string? _offlineExperimentName;
    private int _disposed;

    internal MlflowTracker(ITrackingStore store, MlflowTrackerOptions? options = null, OfflineMirror? offline = null, EnvironmentReader? environment = null, bool ownsStore = false, bool handleProcessExit = false, string? user = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _options = options ?? new MlflowTrackerOptions();
        _options.Validate();
        _store = store;
        _ownsStore = ownsStore;
        _env = environment ?? EnvironmentReader.Process;
        Logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MlflowTracker>();
        _user = SystemTags.ResolveUser(user ?? _options.Client?.Username ?? _env.Get(MlflowEnvironmentVariables.TrackingUsername));
        _offline = offline;
        _batcher = new LogBatcher(store, _options.Batching, offline, Logger);
        _processHooks = handleProcessExit ? new ProcessShutdownHooks(ShutdownForExit) : null;
    }

    /// <summary>What the background sender did so far.</summary>
    public MlflowTrackerCounters Counters => _batcher.Counters;

    internal ILogger Logger { get; }

    internal LogBatcher Batcher => _batcher;

    internal TimeSpan ShutdownTimeout => _options.Batching.ShutdownTimeout;

    internal bool PreciseTimestamps => _options.Batching.PreciseTimestamps;

    /// <summary>
    /// Creates a tracker. Unset options come from the environment as in MLflow: <c>MLFLOW_TRACKING_URI</c>,
    /// credentials, <c>MLFLOW_EXPERIMENT_NAME</c> / <c>MLFLOW_EXPERIMENT_ID</c>. An <c>http(s)</c> URI logs to a
    /// tracking server; no URI, a <c>file:</c> URI or a path logs to a local store.
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> means the environment only.</param>
    /// <returns>A tracker; dispose it at the end.</returns>
    public static MlflowTracker Create(MlflowTrackerOptions? options = null)
    {
        options ??= new MlflowTrackerOptions();
        options.Validate();
        var env = EnvironmentReader.Process;
        var client = (options.Client ?? new MlflowClientOptions()).WithEnvironmentDefaults(env);
        if (options.TrackingUri is not null)
        {
            client.TrackingUri = options.TrackingUri;
        }

        client.Validate();
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var store = TrackingStoreFactory.Create(client, loggerFactory, options.WrapHandler);
        OfflineMirror? offline = null;
        try
        {
            offline = TrackingStoreFactory.CreateOfflineMirror(store, options.Offline, env, loggerFactory);
            if (options.Batching.QueueFullPolicy == QueueFullPolicy.SpillToLocalStore && offline is null)
            {
                throw new NotSupportedException("QueueFullPolicy.SpillToLocalStore needs a tracking server: with a local store there is nothing to spill to. Use QueueFullPolicy.Wait.");
            }

            return new MlflowTracker(store, options, offline, env, ownsStore: true, handleProcessExit: true, user: client.Username);
        }
        catch
        {
            offline?.Dispose();
            store.Dispose();
            throw;
        }
    }

    /// <summary>Logs new runs to the experiment with this name, created when missing.</summary>
    /// <param name="name">The experiment name.</param>
    /// <returns>The experiment id.</returns>
    /// <exception cref="MlflowException">An experiment with that name exists but is deleted: restore it (<see cref="MlflowClient.RestoreExperimentAsync"/>) or pick another name; the tracker never reuses or resurrects a deleted experiment silently.</exception>
    public string SetExperiment(string name) => SetExperimentAsync(name).GetAwaiter().GetResult();

    /// <inheritdoc cref="SetExperiment"/>
    /// <param name="name">The experiment name.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <remarks>With the server unreachable (and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> off), the
    /// name is kept, runs start offline in a local experiment of that name, and the local experiment id is returned.</remarks>
    public async Task<string> SetExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        MlflowValidation.ValidateExperimentName(name);
        string id;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_offline is not null)
        {
            budget.CancelAfter(_offline.Options.OfflineAfter);
        }

        try
        {
            id = await GetOrCreateExperimentAsync(name, budget.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MlflowException m ? CanGoOffline(m) : ex is OperationCanceledException && budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            if (ex is OperationCanceledException && _offline!.Options.ThrowOnConnectivityFailure)
            {
                throw new MlflowException("The tracking server did not answer: " + LogBatcher.NoAnswerWithin(_offline.Options.OfflineAfter) + ".", ex);
            }

            Volatile.Write(ref _offlineExperimentName, name);
            Volatile.Write(ref _experimentId, null);
            return (await _offline!.Store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false))?.ExperimentId
                ?? await _offline.Store.CreateExperimentAsync(name, null, null, cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref _offlineExperimentName, null);
        Volatile.Write(ref _experimentId, id);
        return id;
    }

    /// <summary>Logs new runs to the experiment with this id (not checked until a run starts).</summary>
    /// <param name="experimentId">The experiment id.</param>
    public void SetExperimentById(string experimentId)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        Volatile.Write(ref _offlineExperimentName, null);
        Volatile.Write(ref _experimentId, experimentId);
    }

    /// <summary>Starts a run (a <c>runs/create</c> call) in the current experiment.</summary>
    /// <param name="runName">The name; generated (<c>adjective-noun-N</c>) when <see langword="null"/>.</param>
    /// <param name="tags">Extra tags; they override the system tags.</param>
    /// <returns>The run; dispose it to end it.</returns>
    public ActiveRun StartRun(string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null)
        => StartRunCoreAsync(runName, tags, null, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc cref="StartRun"/>
    /// <param name="runName">The name; generated when <see langword="null"/>.</param>
    /// <param name="tags">Extra tags; they override the system tags.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public Task<ActiveRun> StartRunAsync(string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
        => StartRunCoreAsync(runName, tags, null, cancellationToken);

    /// <summary>Runs <paramref name="body"/> in a new run: FINISHED when it returns, FAILED (and rethrown) when it throws.</summary>
    /// <param name="runName">The run name; generated when <see langword="null"/>.</param>
    /// <param name="body">The work.</param>
    public void Run(string? runName, Action<ActiveRun> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var run = StartRun(runName);
        try
        {
            body(run);
        }
        catch (Exception ex)
        {
            FailQuietly(run, ex);
            throw;
        }

        run.Dispose();
    }

    /// <summary>Runs <paramref name="body"/> in a new run: FINISHED when it completes, FAILED (and rethrown) when it throws.</summary>
    /// <param name="runName">The run name; generated when <see langword="null"/>.</param>
    /// <param name="body">The work.</param>
    /// <param name="cancellationToken">Cancels starting the run.</param>
    /// <returns>A task that completes when the run has ended.</returns>
    public async Task RunAsync(string? runName, Func<ActiveRun, Task> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var run = await StartRunAsync(runName, null, cancellationToken).ConfigureAwait(false);
        try
        {
            await body(run).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            FailQuietly(run, ex);
            throw;
        }

        await run.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until every entry logged so far was sent or given up on.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns><see langword="true"/> when everything was delivered in time.</returns>
    public Task<bool> FlushAsync(TimeSpan timeout) => _batcher.FlushAllAsync(timeout);

    /// <summary>Ends active runs as FINISHED (bounded by the shutdown timeout), stops the sender and releases the store.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Ends active runs as FINISHED (bounded by the shutdown timeout), stops the sender and releases the store.</summary>
    /// <returns>A task that completes when the tracker is shut down.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _processHooks?.Dispose();
        await EndActiveRunsAsync(RunStatus.Finished).ConfigureAwait(false);
        _batcher.Stop(ShutdownTimeout);
        _batcher.Dispose();
        _offline?.Dispose();
        _experimentLock.Dispose();
        if (_ownsStore)
        {
            _store.Dispose();
        }
    }

    internal async Task<ActiveRun> StartRunCoreAsync(string? runName, IEnumerable<KeyValuePair<string, string>>? tags, ActiveRun? parent, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var merged = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SystemTags.User] = _user,
            [SystemTags.SourceName] = SystemTags.SourceNameValue,
            [SystemTags.SourceType] = "LOCAL",
        };
        if (SystemTags.GitCommitValue is { } commit)
        {
            merged[SystemTags.GitCommit] = commit;
        }

        if (parent is not null)
        {
            merged[SystemTags.ParentRunId] = parent.RunId;
        }

        string? userRunName = null;
        if (tags is not null)
        {
            foreach (var (key, value) in tags)
            {
                if (KeysAreFileNames)
                {
                    FileStore.FileStorePaths.ValidateKey(key, "tag key");
                }
                else
                {
                    MlflowValidation.ValidateKey(key, "tag key");
                }

                merged[key] = CheckValue(value, MlflowLimits.MaxTagValueLength, key, "tag");
                if (key == SystemTags.RunName)
                {
                    userRunName = merged[key];
                }
            }
        }

        if (runName is not null && userRunName is not null && runName != userRunName)
        {
            throw new ArgumentException($"The run name '{runName}' and the tag {SystemTags.RunName} '{userRunName}' differ; give one.", nameof(runName));
        }

        var name = runName ?? userRunName ?? RunNameGenerator.Next();
        merged[SystemTags.RunName] = name;
        var startTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        ActiveRun run;
        if (_offline is null)
        {
            var experimentId = parent?.ExperimentId ?? await ResolveExperimentIdAsync(cancellationToken).ConfigureAwait(false);
            var created = await _store.CreateRunAsync(experimentId, name, startTime, merged.Select(kv => new Tag(kv.Key, kv.Value)).ToList(), _user, cancellationToken).ConfigureAwait(false);
            var runId = created.Info.RunId;
            run = new ActiveRun(this, _batcher, _batcher.Register(runId), runId, experimentId, created.Info.RunName ?? name);
        }
        else
        {
            run = await StartRunWithFallbackAsync(name, merged, parent, startTime, cancellationToken).ConfigureAwait(false);
        }

        lock (_runsLock)
        {
            _activeRuns.Add(run);
        }

        return run;
    }

    internal void OnRunEnded(ActiveRun run)
    {
        lock (_runsLock)
        {
            _activeRuns.Remove(run);
        }
    }

    /// <summary>Checks a param or tag value; truncates (warning once per key) or throws per <see cref="MlflowTrackerOptions.OverlongValuePolicy"/>.</summary>
    internal string CheckValue(string? value, int limit, string key, string kind)
    {
        var result = MlflowValidation.CheckValue(value, limit, _options.OverlongValuePolicy == OverlongValuePolicy.Truncate, key, kind + " key", out var truncated);
        if (truncated && _truncationWarned.TryAdd(kind + "\0" + key, 0))
        {
            TrackingLog.ValueTruncated(Logger, kind, key, MlflowValidation.CodePointLength(value!, key, kind), limit);
        }

        return result;
    }

    private async Task<string> ResolveExperimentIdAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _experimentId) is { } known)
        {
            return known;
        }

        await _experimentLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_experimentId is { } again)
            {
                return again;
            }

            var name = Volatile.Read(ref _offlineExperimentName) ?? _options.ExperimentName ?? _env.Get(MlflowEnvironmentVariables.ExperimentName);
            var id = _options.ExperimentId ?? _env.Get(MlflowEnvironmentVariables.ExperimentId);
            string resolved;
            if (name is not null)
            {
                MlflowValidation.ValidateExperimentName(name);
                resolved = await GetOrCreateExperimentAsync(name, cancellationToken).ConfigureAwait(false);
                if (id is not null && id != resolved)
                {
                    throw new ArgumentException($"The experiment name '{name}' (id {resolved}) and the experiment id {id} disagree ({MlflowEnvironmentVariables.ExperimentName} / {MlflowEnvironmentVariables.ExperimentId}); set one.");
                }
            }
            else
            {
                resolved = id ?? "0";
                MlflowValidation.ValidateExperimentId(resolved);
            }

            _experimentId = resolved;
            return resolved;
        }
        finally
        {
            _experimentLock.Release();
        }
    }

    private async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken)
    {
        var experiment = await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; experiment is null; attempt++)
        {
            try
            {
                var created = await _store.CreateExperimentAsync(name, null, null, cancellationToken).ConfigureAwait(false);
                _experimentNames[created] = name;
                return created;
            }
            catch (MlflowException ex) when (ex.ErrorCode is MlflowErrorCode.ResourceAlreadyExists or MlflowErrorCode.AlreadyExists)
            {
                // Created concurrently, by our own unanswered attempt, or a deleted experiment owns the name (SQL stores): look again.
                experiment = await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false)
                    ?? throw new MlflowException($"Experiment '{name}' could not be created: the name is taken, but no experiment with it can be read (a deleted experiment may own it).", ex);
            }
            catch (MlflowException ex) when (ex.OutcomeUnknown && attempt < 3)
            {
                // The creation may have been applied without an answer: read it back before creating again.
                using var readBack = RequestScope.Enter(RequestFlags.BypassCircuitBreaker);
                experiment = await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);
            }
        }

        if (experiment.LifecycleStage == LifecycleStage.Deleted)
        {
            throw new MlflowException($"Experiment '{name}' (id {experiment.ExperimentId}) is deleted. Restore it (MlflowClient.RestoreExperimentAsync) or choose another name: the tracker does not log into a deleted experiment or resurrect it silently.");
        }

        _experimentNames[experiment.ExperimentId] = name;
        return experiment.ExperimentId;
    }

    /// <summary>
    /// Whether what the runs log may land in a local store: the tracker logs to one, or to a server with the offline
    /// fallback (which writes what the server has not acknowledged to one). A key that store would refuse at flush is
    /// then refused on the caller's thread.
    /// </summary>
    internal bool KeysAreFileNames => LogsToLocalStore || _offline is not null;

    /// <summary>Whether the tracker logs to a local store (no server).</summary>
    internal bool LogsToLocalStore => _store is FileStore.LocalFileStore;

    /// <summary>
    /// Where the tracker logs: the tracking server's URI (never with credentials) or the local store's folder.
    /// </summary>
    public string Destination => _store is FileStore.LocalFileStore local ? local.RootDirectory : _store.Description;

    /// <summary>
    /// The folder that keeps what a server did not acknowledge (<see cref="MlflowOfflineOptions.Directory"/>), for
    /// <c>mlflow-sync --from</c>; <see langword="null"/> when the tracker logs to a local store.
    /// </summary>
    public string? OfflineDirectory => _offline?.Root;

    /// <summary>Whether the offline fallback takes over after <paramref name="ex"/> (on, not told to throw, and transient: the server did not refuse the request itself).</summary>
    private bool CanGoOffline(MlflowException ex) => _offline is not null && !_offline.Options.ThrowOnConnectivityFailure && ex.IsTransient;

    /// <summary>
    /// Creates the run on the server, tagged with a fresh client key; a creation whose answer was lost is found again by
    /// that key instead of repeated. With the server unreachable, the run starts offline: a local run named by the key.
    /// </summary>
    private async Task<ActiveRun> StartRunWithFallbackAsync(string name, Dictionary<string, string> merged, ActiveRun? parent, long startTime, CancellationToken cancellationToken)
    {
        var key = Guid.NewGuid().ToString("N");
        merged[OfflineMirror.ClientRunKeyTag] = key;
        merged[RunSynchronizer.SourceRunIdTag] = key;
        var tags = merged.Select(kv => new Tag(kv.Key, kv.Value)).ToList();
        var experimentId = parent?.ExperimentId;
        string? experimentName = null;
        string reason;
        if (parent?.Buffer.Mirror is { LocalOnly: true })
        {
            reason = "its parent run started offline";
        }
        else
        {
            // The HTTP retry budget alone can take minutes: the run starts offline once OfflineAfter has passed.
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(_offline!.Options.OfflineAfter);
            var ct = budget.Token;
            // A server that refuses connections is not there: the run starts offline after one connection attempt
            // instead of waiting out the retry budget (the drain creates the server run later).
            using var failFast = RequestScope.Enter(_offline.Options.ThrowOnConnectivityFailure ? RequestFlags.None : RequestFlags.NoRetryWhenRefused);
            try
            {
                experimentId ??= await ResolveExperimentIdAsync(ct).ConfigureAwait(false);
                experimentName = await ExperimentNameAsync(experimentId, ct).ConfigureAwait(false);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        var created = await _store.CreateRunAsync(experimentId, name, startTime, tags, _user, ct).ConfigureAwait(false);
                        return Register(created.Info.RunId, experimentId, experimentName, key, created.Info.RunName ?? name);
                    }
                    catch (MlflowException ex) when (ex.OutcomeUnknown && attempt < 3)
                    {
                        using var readBack = RequestScope.Enter(RequestFlags.BypassCircuitBreaker);
                        if (await FindByClientKeyAsync(experimentId, key, ct).ConfigureAwait(false) is { } found)
                        {
                            return Register(found.Info.RunId, experimentId, experimentName, key, found.Info.RunName ?? name);
                        }
                    }
                }
            }
            catch (MlflowException ex) when (CanGoOffline(ex))
            {
                reason = ex.ShortReason;
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A creation sent without an answer may exist on the server: it carries the client key, so the drain
                // (or mlflow-sync) finds it by its source tag instead of creating a second run.
                reason = LogBatcher.NoAnswerWithin(_offline.Options.OfflineAfter);
                if (_offline.Options.ThrowOnConnectivityFailure)
                {
                    throw new MlflowException("The tracking server did not answer: " + reason + ".");
                }
            }
        }

        // Offline start: a local run under the client key; a drain (or mlflow-sync) creates its server run later.
        string? localExperimentId = null;
        string? serverExperimentId = null;
        if (parent is not null && parent.Buffer.Mirror is { LocalOnly: true })
        {
            localExperimentId = parent.ExperimentId;
        }
        else if (experimentId is not null)
        {
            serverExperimentId = experimentId;
        }
        else
        {
            experimentName = Volatile.Read(ref _offlineExperimentName) ?? _options.ExperimentName ?? _env.Get(MlflowEnvironmentVariables.ExperimentName);
            serverExperimentId = experimentName is null ? _options.ExperimentId ?? _env.Get(MlflowEnvironmentVariables.ExperimentId) ?? "0" : null;
        }

        var (mirror, localExperiment) = _offline!.CreateLocalRun(key, localExperimentId, experimentName, serverExperimentId, name, startTime, tags, _user);
        _offline.WarnOnce(_store.Description, key, reason);
        return new ActiveRun(this, _batcher, _batcher.Register(key, null, mirror), key, localExperiment, name);

        ActiveRun Register(string runId, string expId, string? expName, string clientKey, string runName)
            => new(this, _batcher, _batcher.Register(runId, new RunIdentity(clientKey, expId, expName, runName)), runId, expId, runName);
    }

    /// <summary>The name of a server experiment: known from the tracker's own lookups, else read once (best effort).</summary>
    private async Task<string?> ExperimentNameAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (_experimentNames.TryGetValue(experimentId, out var name))
        {
            return name;
        }

        try
        {
            var experiment = await _store.GetExperimentAsync(experimentId, cancellationToken).ConfigureAwait(false);
            _experimentNames[experimentId] = experiment.Name;
            return experiment.Name;
        }
        catch (MlflowException ex) when (!ex.IsTransient)
        {
            return null; // the run creation reports a missing experiment
        }
    }

    private async Task<Run?> FindByClientKeyAsync(string experimentId, string key, CancellationToken cancellationToken)
    {
        var page = await _store.SearchRunsAsync(new RunSearchOptions
        {
            ExperimentIds = [experimentId],
            Filter = $"tags.`{OfflineMirror.ClientRunKeyTag}` = '{key}'",
            ViewType = ViewType.All,
            MaxResults = 10,
        }, null, cancellationToken).ConfigureAwait(false);
        return page.Items.Count > 0 ? page.Items[0] : null;
    }

    /// <summary>
    /// Sends a run's final status: directly, or through its local copy (sent last, after the data) when it has one. The end
    /// is data like any other: when the server cannot take it within <paramref name="cancellationToken"/>'s budget (a
    /// transient failure, or the budget ran out), the status and end time are kept in the run's local copy (opened when
    /// needed, forced to disk), which the sender drains while the tracker lives and <c>mlflow-sync</c> completes later;
    /// a warning says so. A local copy always ends with the final status, also when the server took it directly.
    /// </summary>
    internal async Task EndOnStoreAsync(ActiveRun run, RunStatus status, CancellationToken cancellationToken)
    {
        var endTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var mirror = run.Buffer.Mirror;
        if (_offline is null || mirror is not { Active: true })
        {
            string reason;
            try
            {
                await _store.UpdateRunAsync(run.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
                if (mirror is not null)
                {
                    await RecordEndLocallyAsync(mirror, status, endTime, onServer: true).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception ex) when (_offline is not null && run.Buffer.Identity is not null && KeepsEndOffline(ex, cancellationToken, out reason))
            {
            }

            mirror = _batcher.EnsureMirror(run.Buffer, reason);
        }

        await RecordEndLocallyAsync(mirror, status, endTime, onServer: false).ConfigureAwait(false);
        // Entries still with the sender reach the local copy first: then the sender drains them, and the status last.
        if (run.Buffer.IsDrained)
        {
            await DrainEndAsync(run, mirror, status, endTime, cancellationToken).ConfigureAwait(false);
        }

        if (mirror.Dirty)
        {
            OfflineLog.EndedOffline(Logger, run.RunId, status.ToString().ToUpperInvariant(), _offline.Root);
            _batcher.KeepDraining(run.Buffer);
        }
    }

    /// <summary>
    /// Writes the final status into the run's local copy and forces it to disk. The copy's gate is waited for whatever
    /// budget is left: its holder (a drain, bounded by <see cref="MlflowOfflineOptions.OfflineAfter"/>, or a local write)
    /// lets go, and the end must not be lost.
    /// </summary>
    private async Task RecordEndLocallyAsync(RunMirror mirror, RunStatus status, long endTime, bool onServer)
    {
        await mirror.Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _offline!.SetStatus(mirror, status, endTime, onServer);
            _offline.FlushToDisk(force: true);
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    /// <summary>
    /// Within the end budget, sends the run's local copy (its status last) to a server that is back, or whose circuit
    /// breaker is about to close: a drain attempt every ReconnectInterval until one gets through or the budget is spent.
    /// The copy stays dirty when the status did not reach the server.
    /// </summary>
    private async Task DrainEndAsync(ActiveRun run, RunMirror mirror, RunStatus status, long endTime, CancellationToken cancellationToken)
    {
        try
        {
            await mirror.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // the sender is draining it
        }

        try
        {
            var state = DrainState.Unreachable;
            while (mirror.Dirty)
            {
                state = await _batcher.DrainMirrorCoreAsync(run.Buffer, mirror, cancellationToken).ConfigureAwait(false);
                if (state != DrainState.Unreachable)
                {
                    break;
                }

                await Task.Delay(_offline!.Options.ReconnectInterval, cancellationToken).ConfigureAwait(false);
            }

            if (state == DrainState.Failed && !mirror.LocalOnly)
            {
                // The data went as far as the server accepts it (the refusals are reported): the status goes directly.
                await _store.UpdateRunAsync(run.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
                mirror.Dirty = false;
            }
        }
        catch (Exception ex) when (KeepsEndOffline(ex, cancellationToken, out _))
        {
            // out of time, or the server went away again: the status is kept locally
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    /// <summary>
    /// Whether a failed end is kept offline: a transient failure, or the end budget ran out (the update may have been
    /// applied; sending the same status and end time again is harmless).
    /// </summary>
    private static bool KeepsEndOffline(Exception ex, CancellationToken budget, out string reason)
    {
        switch (ex)
        {
            case MlflowException m when m.IsTransient || m.Kind == MlflowFailureKind.Cancelled:
                reason = m.ShortReason;
                return true;
            case OperationCanceledException when budget.IsCancellationRequested:
                reason = "no answer within the end budget (MlflowBatchingOptions.ShutdownTimeout)";
                return true;
            default:
                reason = "";
                return false;
        }
    }

    /// <summary>Throws when the run is offline and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> asks for it.</summary>
    internal void ThrowIfOffline(ActiveRun run)
    {
        if (_offline is { Options.ThrowOnConnectivityFailure: true } && run.IsOffline)
        {
            throw new MlflowException($"Run {run.RunId} is offline: the tracking server {_store.Description} cannot be reached. What it logged is kept in {_offline.Root} and sent when the server answers (or with mlflow-sync).");
        }
    }

    private static void FailQuietly(ActiveRun run, Exception ex)
    {
        try
        {
            run.Fail(ex);
        }
        catch (MlflowRejectedEntriesException)
        {
            // Already logged by the sender; the caller's own exception matters more.
        }
    }

    private async Task EndActiveRunsAsync(RunStatus status)
    {
        ActiveRun[] runs;
        lock (_runsLock)
        {
            runs = [.. _activeRuns];
        }

        // Children first (they were started last), all within one shutdown budget.
        var started = DateTime.UtcNow;
        foreach (var run in Enumerable.Reverse(runs))
        {
            var left = ShutdownTimeout - (DateTime.UtcNow - started);
            await run.EndCoreAsync(status, left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
        }
    }

    private void ShutdownForExit(string reason)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        int count;
        lock (_runsLock)
        {
            count = _activeRuns.Count;
        }

        if (count > 0)
        {
            TrackingLog.ProcessExiting(Logger, reason, count);
        }

        try
        {
            EndActiveRunsAsync(RunStatus.Killed).GetAwaiter().GetResult();
            _batcher.Stop(ShutdownTimeout);
        }
#pragma warning disable CA1031 // never throw from a process exit handler
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.SenderFailed(Logger, ex);
        }
    }
}
