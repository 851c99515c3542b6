namespace Mlflow.Client.Offline;

/// <summary>Who a tracked run is on the server, kept so its local mirror can be created at any moment without asking the server.</summary>
/// <param name="ClientKey">The client-side key: tag <c>mlflow.dotnet.clientRunKey</c> of the server run, and the id of its local mirror.</param>
/// <param name="ExperimentId">The server experiment id.</param>
/// <param name="ExperimentName">The server experiment name, when known.</param>
/// <param name="RunName">The run name.</param>
internal sealed record RunIdentity(string ClientKey, string ExperimentId, string? ExperimentName, string RunName);

/// <summary>
/// The local copy of one run's unacknowledged data: a run in the offline store whose id is the run's client key. While
/// <see cref="Active"/>, the run's entries are written there instead of being sent; a drain
/// (<see cref="OfflineMirror.TryDrainAsync"/>) pushes them to the server with the sync machinery, which keeps a journal
/// of what the server acknowledged beside the local run. Its flags are set by the offline layer
/// (<see cref="OfflineSink"/>) alone, under <see cref="Gate"/>.
/// </summary>
/// <remarks>
/// Two locks: <see cref="Gate"/> is short (local writes; the drain's reading of the local run) and never held over a
/// network call, so entries keep reaching the local copy while a drain runs; <see cref="DrainLock"/> is held by a drain
/// for its whole length and by writers of the run's sync journal (in-flight marks, tag deletions, a status already on
/// the server), which the drain rewrites as it goes. Order: <see cref="DrainLock"/> before <see cref="Gate"/>.
/// </remarks>
internal sealed class RunMirror(string localRunId, string? serverRunId, bool localOnly)
{
    private volatile bool _active = true;
    private volatile bool _serverDown = true;
    private volatile bool _dirty;
    private volatile string? _serverRunId = serverRunId;
    private long _nextAttempt;

    /// <summary>The run id in the local store (the client key).</summary>
    public string LocalRunId { get; } = localRunId;

    /// <summary>The server run this mirrors; for a run started offline, <see langword="null"/> until a drain created it.</summary>
    public string? ServerRunId { get => _serverRunId; set => _serverRunId = value; }

    /// <summary>Started offline: the run exists only locally until a drain creates it on the server; every entry goes through the mirror.</summary>
    public bool LocalOnly { get; } = localOnly;

    /// <summary>Entries go to the local store (not to the server directly).</summary>
    public bool Active { get => _active; set => _active = value; }

    /// <summary>The last attempt found the server unreachable.</summary>
    public bool ServerDown { get => _serverDown; set => _serverDown = value; }

    /// <summary>Written since the last complete drain (entries or the final status).</summary>
    public bool Dirty { get => _dirty; set => _dirty = value; }

    /// <summary>Local writes so far (entries and statuses): a drain clears <see cref="Dirty"/> only when none came in while it ran.</summary>
    public long Generation { get; set; }

    /// <summary>No drain before this time (a timestamp of the tracker's <see cref="TimeProvider"/>).</summary>
    public long NextAttempt { get => Interlocked.Read(ref _nextAttempt); set => Interlocked.Exchange(ref _nextAttempt, value); }

    /// <summary>Points of each metric key in the local file (for in-flight ranges).</summary>
    public Dictionary<string, long> MetricCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Drain errors already reported to the run's owner.</summary>
    public HashSet<string> ReportedErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>Serializes local writes, and the drain's reading of the local run (short; no network call under it).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Held by a drain for its whole length, and by writers of the run's sync journal.</summary>
    public SemaphoreSlim DrainLock { get; } = new(1, 1);
}
