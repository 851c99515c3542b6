// The tracker itself: construction from options and the environment, its state, counters, flushing and where it logs.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.Batching;
using Mlflow.Client.Offline;
using Mlflow.Client.Store;

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
/// send), runs still active are flushed to the server, or after a stall of
/// <see cref="MlflowBatchingOptions.ShutdownTimeout"/> to the offline copy on disk, and ended as KILLED; then the signal takes its default course and
/// the process ends with status 128 + signal (130, 143, 129). The tracker never cancels a signal nor exits the process
/// itself.</para>
/// <para>Under the generic host, whose lifetime cancels SIGTERM and SIGINT to stop the application gracefully, .NET calls
/// the most recently registered handler first. A tracker created after the host started (from dependency injection, say)
/// ends its runs KILLED first, then the host stops as usual with its own exit code; logging to those runs afterwards
/// throws <see cref="InvalidOperationException"/>. A tracker created before the host started is not called for those
/// signals: end its runs in the application's shutdown (dispose the tracker when the host stops); process exit ends what
/// is left. On Windows, process exit, Ctrl+C and Ctrl+Break are hooked. <see cref="MlflowTrackerOptions.HandleProcessShutdown"/> off
/// leaves all of this to the host (<c>AddMlflowTracking</c> of Mlflow.Client.Extensions.Hosting does so and ends the runs
/// when the host stops).</para>
/// </remarks>
public sealed partial class MlflowTracker : IDisposable, IAsyncDisposable, IRunHost
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
    private readonly OfflineExporter? _offlineLayer;
    private readonly ConcurrentDictionary<string, string> _experimentNames = new(StringComparer.Ordinal) { ["0"] = "Default" };
    private string? _experimentId;
    private string? _offlineExperimentName;
    private int _disposed;

    internal MlflowTracker(ITrackingStore store, MlflowTrackerOptions? options = null, OfflineMirror? offline = null, EnvironmentReader? environment = null, bool ownsStore = false, bool handleProcessExit = false, string? user = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _options = options ?? new MlflowTrackerOptions();
        _options.Validate();
        _store = store;
        _ownsStore = ownsStore;
        _env = environment ?? EnvironmentReader.Process;
        // No factory given: the warnings a person must see go to standard error (unless turned off), as Python's
        // logging does with no handler; Create passes the one it also gave the offline store.
        Logger = (loggerFactory ?? _options.LoggerFactory ?? (ILoggerFactory?)StandardErrorLogger.For(_options) ?? NullLoggerFactory.Instance).CreateLogger<MlflowTracker>();
        _user = SystemTags.ResolveUser(user ?? _options.Client?.Username ?? _env.Get(MlflowEnvironmentVariables.TrackingUsername));
        _offline = offline;
        // One line: the sender queues and cuts batches; the server exporter sends them; the offline layer (when on) wraps
        // the server exporter and keeps what it does not take.
        var time = _options.TimeProvider;
        var counters = new LogCounters(Logger);
        var server = new ServerExporter(store, offline?.Options.OfflineAfter, time);
        _offlineLayer = offline is null ? null : new OfflineExporter(server, offline, counters, time, Logger);
        _batcher = new LogBatcher(store, _offlineLayer ?? (ILogExporter)server, counters, _options.Batching, time, Logger);
        _processHooks = handleProcessExit ? new ProcessShutdownHooks(ShutdownForExit) : null;
    }

    /// <summary>What the background sender did so far.</summary>
    public MlflowTrackerCounters Counters => _batcher.Counters;

    internal ILogger Logger { get; }

    internal LogBatcher Batcher => _batcher;

    /// <summary>The offline fallback's local store, when on.</summary>
    internal OfflineMirror? Offline => _offline;

    /// <summary>The local copy of a run, once it has one.</summary>
    internal RunMirror? MirrorOf(RunBuffer buffer) => _offlineLayer?.MirrorOf(buffer);

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

        if (options.TimeProvider != TimeProvider.System)
        {
            client.Retry.TimeProvider = options.TimeProvider; // the breaker and retry delays follow the tracker's clock
        }

        client.Validate();
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var store = TrackingStoreFactory.Create(client, loggerFactory, options.WrapHandler, options.HttpClientFactory);
        // The tracker's own warnings and the offline store's (went offline, kept in a folder) reach standard error when
        // no factory is given; the HTTP client's retries and the local store's repairs stay with the factory only.
        var trackerLoggers = options.LoggerFactory ?? (ILoggerFactory?)StandardErrorLogger.For(options) ?? NullLoggerFactory.Instance;
        OfflineMirror? offline = null;
        try
        {
            offline = TrackingStoreFactory.CreateOfflineMirror(store, options.Offline, env, trackerLoggers);
            if (options.Batching.QueueFullPolicy == QueueFullPolicy.SpillToLocalStore && offline is null)
            {
                throw new NotSupportedException("QueueFullPolicy.SpillToLocalStore needs a tracking server: with a local store there is nothing to spill to. Use QueueFullPolicy.Wait.");
            }

            return new MlflowTracker(store, options, offline, env, ownsStore: true, handleProcessExit: options.HandleProcessShutdown, user: client.Username, loggerFactory: trackerLoggers);
        }
        catch
        {
            offline?.Dispose();
            store.Dispose();
            throw;
        }
    }

    /// <summary>Waits until every entry logged so far was sent or given up on.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns><see langword="true"/> when everything was delivered in time.</returns>
    public Task<bool> FlushAsync(TimeSpan timeout) => _batcher.FlushAllAsync(timeout);

    /// <summary>
    /// Whether what the runs log may land in a local store: the tracker logs to one, or to a server with the offline
    /// fallback (which writes what the server has not acknowledged to one). A key that store would refuse at flush is
    /// then refused on the caller's thread.
    /// </summary>
    internal bool KeysAreFileNames => LogsToLocalStore || _offline is not null;

    /// <summary>Whether the tracker logs to a local store (no server): a folder, or memory (<see cref="CreateInMemory"/>).</summary>
    internal bool LogsToLocalStore => _store.IsLocal;

    /// <summary>
    /// Where the tracker logs: the tracking server's URI (never with credentials) or the local store's folder.
    /// </summary>
    public string Destination => _store.Destination;

    /// <summary>
    /// The folder that keeps what a server did not acknowledge (<see cref="MlflowOfflineOptions.Directory"/>), for
    /// <c>mlflow-sync --from</c>; <see langword="null"/> when the tracker logs to a local store.
    /// </summary>
    public string? OfflineDirectory => _offline?.Root;
}
