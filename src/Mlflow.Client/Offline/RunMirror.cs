using System.Diagnostics;

namespace Mlflow.Client.Offline;

/// <summary>Who a tracked run is on the server, kept so its local mirror can be created at any moment without asking the server.</summary>
/// <param name="ClientKey">The client-side key: tag <c>mlflow.dotnet.clientRunKey</c> of the server run, and the id of its local mirror.</param>
/// <param name="ExperimentId">The server experiment id.</param>
/// <param name="ExperimentName">The server experiment name, when known.</param>
/// <param name="RunName">The run name.</param>
internal sealed record RunIdentity(string ClientKey, string ExperimentId, string? ExperimentName, string RunName);

/// <summary>Where a run's entries go, as its local copy (<see cref="RunMirror"/>) decides.</summary>
internal enum MirrorMode
{
    /// <summary>Straight to the server; the copy holds nothing the server lacks (or the run has no copy yet).</summary>
    Direct,

    /// <summary>To the copy: the server could not be reached; a drain is tried every reconnect interval.</summary>
    Offline,

    /// <summary>To the copy while the server answers (the queue overflowed, or a run started offline): drained at once.</summary>
    Local,
}

/// <summary>What happened to a run's local copy: the input of its one transition method (<see cref="RunMirror.Apply"/>).</summary>
internal enum MirrorEvent
{
    /// <summary>Entries, a file, inputs or the final status were written to the copy.</summary>
    Written,

    /// <summary>A send, upload or end found the server unreachable: the run goes offline (unless its entries already go to the copy).</summary>
    ServerDown,

    /// <summary>The queue overflowed while the server is fine: entries go to the copy and are drained right after.</summary>
    Spilled,

    /// <summary>A drain found the server unreachable (or got no answer within its budget): tried again later.</summary>
    DrainUnreachable,

    /// <summary>A drain reached the server but it refused part of the copy: reported, tried again later.</summary>
    DrainRefused,

    /// <summary>A drain failed in the client (a bug or a failing disk): tried again later.</summary>
    DrainCrashed,

    /// <summary>A drain sent everything it read: the copy is clean unless it was written meanwhile.</summary>
    Drained,

    /// <summary>The final status reached the server directly after the copy's data went as far as the server takes it.</summary>
    EndedOnServer,
}

/// <summary>
/// The local copy of one run's unacknowledged data: a run in the offline store whose id is the run's client key. While
/// its <see cref="Mode"/> is not <see cref="MirrorMode.Direct"/>, the run's entries are written there instead of being
/// sent; a drain (<see cref="OfflineMirror.TryDrainAsync"/>) pushes them to the server with the sync machinery, which
/// keeps a journal of what the server acknowledged beside the local run.
/// </summary>
/// <remarks>
/// <para>One state machine: <see cref="Mode"/>, <see cref="Dirty"/>, <see cref="Generation"/> and
/// <see cref="NextAttempt"/> change only in <see cref="Apply"/>, called under <see cref="Gate"/>; anyone may read them.</para>
/// <para>Two locks: <see cref="Gate"/> is short (local writes; the drain's reading of the local run) and never held over a
/// network call, so entries keep reaching the local copy while a drain runs; <see cref="DrainLock"/> is held by a drain
/// for its whole length and by writers of the run's sync journal (in-flight marks, tag deletions, a status already on
/// the server), which the drain rewrites as it goes. Order: <see cref="DrainLock"/> before <see cref="Gate"/>.</para>
/// </remarks>
internal sealed class RunMirror
{
    private volatile MirrorMode _mode;
    private volatile bool _dirty;
    private volatile string? _serverRunId;
    private long _generation;
    private long _nextAttempt;

    /// <param name="localRunId">The run id in the local store (the client key).</param>
    /// <param name="serverRunId">The server run, when it exists.</param>
    /// <param name="localOnly">Started offline: everything it logs waits for a drain (it starts <see cref="MirrorMode.Offline"/> and dirty).</param>
    public RunMirror(string localRunId, string? serverRunId, bool localOnly)
    {
        LocalRunId = localRunId;
        _serverRunId = serverRunId;
        LocalOnly = localOnly;
        _mode = localOnly ? MirrorMode.Offline : MirrorMode.Direct;
        _dirty = localOnly;
        _generation = localOnly ? 1 : 0;
    }

    /// <summary>The run id in the local store (the client key).</summary>
    public string LocalRunId { get; }

    /// <summary>The server run this mirrors; for a run started offline, <see langword="null"/> until a drain created it (set once).</summary>
    public string? ServerRunId
    {
        get => _serverRunId;
        set => Interlocked.CompareExchange(ref _serverRunId, value, null);
    }

    /// <summary>Started offline: the run exists only locally until a drain creates it on the server; every entry goes through the mirror.</summary>
    public bool LocalOnly { get; }

    /// <summary>Where the run's entries go.</summary>
    public MirrorMode Mode => _mode;

    /// <summary>Entries go to the local store (not to the server directly).</summary>
    public bool Active => _mode != MirrorMode.Direct;

    /// <summary>The last attempt found the server unreachable (and entries go to the copy).</summary>
    public bool ServerDown => _mode == MirrorMode.Offline;

    /// <summary>Written since the last complete drain (entries or the final status).</summary>
    public bool Dirty => _dirty;

    /// <summary>Local writes so far (entries and statuses): a drain clears <see cref="Dirty"/> only when none came in while it ran.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>No drain before this time (a timestamp of the tracker's <see cref="TimeProvider"/>).</summary>
    public long NextAttempt => Interlocked.Read(ref _nextAttempt);

    /// <summary>Points of each metric key in the local file (for in-flight ranges; under <see cref="Gate"/>).</summary>
    public Dictionary<string, long> MetricCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The run's sync journal as last read or written by this process (under <see cref="DrainLock"/>): read from disk
    /// again only when the file changed under it (<see cref="JournalStamp"/>), saved whenever it changes.
    /// </summary>
    public Sync.SyncJournal? Journal { get; set; }

    /// <summary>The journal file's last write time when <see cref="Journal"/> was read or saved.</summary>
    public DateTime JournalStamp { get; set; }

    /// <summary>Drain errors already reported to the run's owner.</summary>
    public HashSet<string> ReportedErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>Serializes local writes and transitions, and the drain's reading of the local run (short; no network call under it).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Held by a drain for its whole length, and by writers of the run's sync journal.</summary>
    public SemaphoreSlim DrainLock { get; } = new(1, 1);

    /// <summary>
    /// The one transition of the copy's state; the caller holds <see cref="Gate"/>.
    /// </summary>
    /// <param name="change">What happened.</param>
    /// <param name="retryAt">For the drain failures: the earliest next drain (a timestamp of the tracker's clock).</param>
    /// <param name="generationRead">For <see cref="MirrorEvent.Drained"/>: <see cref="Generation"/> when the drain read the copy.</param>
    /// <returns>The mode before the change.</returns>
    public MirrorMode Apply(MirrorEvent change, long retryAt = 0, long generationRead = 0)
    {
        Debug.Assert(Gate.CurrentCount == 0, "A mirror's state changes under its gate.");
        var before = _mode;
        switch (change)
        {
            case MirrorEvent.Written:
                _dirty = true;
                Interlocked.Increment(ref _generation);
                break;
            case MirrorEvent.ServerDown when before == MirrorMode.Direct:
                _mode = MirrorMode.Offline;
                break;
            case MirrorEvent.Spilled:
                _mode = MirrorMode.Local;
                Interlocked.Exchange(ref _nextAttempt, 0); // drain right after writing: the server is fine, only slower than the producer
                break;
            case MirrorEvent.DrainUnreachable:
                _mode = before == MirrorMode.Direct ? before : MirrorMode.Offline;
                Interlocked.Exchange(ref _nextAttempt, retryAt);
                break;
            case MirrorEvent.DrainRefused:
                _mode = before == MirrorMode.Direct ? before : MirrorMode.Local;
                Interlocked.Exchange(ref _nextAttempt, retryAt);
                break;
            case MirrorEvent.DrainCrashed:
                Interlocked.Exchange(ref _nextAttempt, retryAt);
                break;
            case MirrorEvent.Drained when Generation != generationRead:
                _mode = before == MirrorMode.Direct ? before : MirrorMode.Local;
                Interlocked.Exchange(ref _nextAttempt, 0); // written while the drain ran: the rest goes next
                break;
            case MirrorEvent.Drained:
                _dirty = false;
                _mode = LocalOnly ? MirrorMode.Local : MirrorMode.Direct; // nothing is left locally: the next entries go straight to the server, in order
                break;
            case MirrorEvent.EndedOnServer:
                _dirty = false;
                break;
        }

        return before;
    }
}
