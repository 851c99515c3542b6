namespace Mlflow.Client.Offline;

/// <summary>Who a tracked run is on the server, kept so its local mirror can be created at any moment without asking the server.</summary>
/// <param name="ClientKey">The client-side key: tag <c>mlflow.dotnet.clientRunKey</c> (and <c>mlflow.dotnet.sourceRunId</c>) of the server run, and the id of its local mirror.</param>
/// <param name="ExperimentId">The server experiment id.</param>
/// <param name="ExperimentName">The server experiment name, when known.</param>
/// <param name="RunName">The run name.</param>
internal sealed record RunIdentity(string ClientKey, string ExperimentId, string? ExperimentName, string RunName);

/// <summary>
/// The local copy of one run's unacknowledged data: a run in the offline store whose id is the run's client key. While
/// <see cref="Active"/>, the sender writes the run's entries there instead of sending them; a drain
/// (<see cref="OfflineMirror.TryDrainAsync"/>) pushes them to the server with the sync machinery, which keeps a journal
/// of what the server acknowledged beside the local run.
/// </summary>
internal sealed class RunMirror(string localRunId, string? serverRunId, bool localOnly)
{
    private volatile bool _active = true;
    private volatile bool _serverDown = true;
    private volatile string? _serverRunId = serverRunId;

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
    public bool Dirty { get; set; }

    /// <summary>No drain before this time (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
    public long NextAttempt { get; set; }

    /// <summary>Points of each metric key in the local file (for in-flight ranges).</summary>
    public Dictionary<string, long> MetricCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Drain errors already reported to the run's owner.</summary>
    public HashSet<string> ReportedErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>Serializes writes and drains of this mirror (the sender and the thread ending the run).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);
}
