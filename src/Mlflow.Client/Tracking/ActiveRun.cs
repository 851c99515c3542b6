using System.Diagnostics;
using System.Runtime.CompilerServices;
using Mlflow.Client.Batching;

namespace Mlflow.Client;

/// <summary>
/// A run in progress, from <see cref="MlflowTracker.StartRun(string?, IEnumerable{KeyValuePair{string, string}}?)"/>. Log calls validate on the calling thread (throwing
/// <see cref="MlflowValidationException"/> naming the key and rule), stamp the time and queue; a background sender
/// delivers them in batches. Thread-safe: many threads may log to one run, and the points of one metric key arrive
/// in the order the calls were made.
/// </summary>
/// <remarks>
/// <para>Disposing waits for the queued entries while the server takes them (after a stall of
/// <see cref="MlflowBatchingOptions.ShutdownTimeout"/> the rest goes to the offline store on disk) and ends the run as
/// FINISHED unless it was ended otherwise; it never throws. C# cannot tell a dispose during exception unwinding from a normal one, so
/// a <c>using</c> block ends a throwing body as FINISHED too: use <see cref="MlflowTracker.Run"/> /
/// <see cref="MlflowTracker.RunAsync"/>, or call <see cref="Fail"/> in your <c>catch</c>, to record FAILED.</para>
/// <para>Entries the server rejects (for example a param re-logged with another value) do not take the rest of
/// their batch with them; they are listed in <see cref="RejectedEntries"/>, logged, and thrown once by
/// <see cref="FlushAsync"/> or <see cref="End"/> as a <see cref="MlflowRejectedEntriesException"/>.</para>
/// <para>Key rules, checked on the calling thread. Every metric, param and tag key follows MLflow's: letters, digits,
/// '_', '-', '.', ' ' and '/', at most 250 code points, and a relative path in normal form (MLflow's
/// <c>posixpath.normpath</c> check): not starting with '/' or '..' (so not <c>..a</c>), no '//', no '.' or '..'
/// segment (<c>a/./b</c>, <c>a/..</c>), no trailing '/'. While the run may write to a local store (the tracker logs to
/// one, or logs to a tracking server with the offline fallback, as every tracker <see cref="MlflowTracker.Create"/>
/// makes for an <c>http(s)</c> URI does) each '/'-separated segment must also be a file name every operating system
/// accepts: at most 255 UTF-8 bytes, not a Windows device name (<c>con</c>, <c>prn</c>, <c>aux</c>, <c>nul</c>,
/// <c>com1</c>-<c>com9</c>, <c>lpt1</c>-<c>lpt9</c>, with any extension, such as <c>aux.txt</c>), not ending with '.'
/// or ' '. Such a key is refused at once, not when its entry reaches the local store.</para>
/// </remarks>
[DebuggerDisplay("Run {RunId} {RunName} {Status}")]
public sealed partial class ActiveRun : IDisposable, IAsyncDisposable
{
    private const int KeyCacheSize = 16;

    /// <summary>
    /// How long moving a stalled run's backlog to the outbox may go without progress: local disk writes, the cancelled
    /// sends coming back, and a running drain of the run (bounded by <see cref="MlflowOfflineOptions.OfflineAfter"/>).
    /// </summary>
    private static readonly TimeSpan OutboxWriteStall = TimeSpan.FromSeconds(30);

    // Keys this thread already checked, one cache per rule: MLflow's, and MLflow's plus the local store's file names.
    [ThreadStatic]
    private static string?[]? t_validKeys;

    [ThreadStatic]
    private static string?[]? t_storableKeys;

    private readonly MlflowTracker _tracker;
    private readonly LogBatcher _batcher;
    private readonly bool _preciseTimestamps;
    private readonly bool _keysAreFileNames;
    private readonly bool _logsToLocalStore;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _params = new(StringComparer.Ordinal);
    private int _ending;
    private volatile Offline.RunMirror? _mirror;
    private volatile RunStatus _status = RunStatus.Running;
    private readonly TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ActiveRun(MlflowTracker tracker, LogBatcher batcher, RunBuffer buffer, string runId, string experimentId, string runName)
    {
        _tracker = tracker;
        _batcher = batcher;
        _preciseTimestamps = tracker.PreciseTimestamps;
        _keysAreFileNames = tracker.KeysAreFileNames;
        _logsToLocalStore = tracker.LogsToLocalStore;
        Buffer = buffer;
        RunId = runId;
        ExperimentId = experimentId;
        RunName = runName;
    }

    /// <summary>
    /// The run id the store assigned; for a run started offline, its local id (a client key, which its server run
    /// carries in tag <c>mlflow.dotnet.sourceRunId</c>): see <see cref="ServerRunId"/>.
    /// </summary>
    public string RunId { get; }

    /// <summary>
    /// The id of this run on the tracking server: <see cref="RunId"/>, except for a run started offline, where it is
    /// <see langword="null"/> until the run was first sent to the server (by this tracker, once the server answers).
    /// A run synced later by <c>mlflow-sync</c> is found on the server by tag <c>mlflow.dotnet.sourceRunId</c> = <see cref="RunId"/>.
    /// </summary>
    public string? ServerRunId => Mirror is { LocalOnly: true } mirror ? mirror.ServerRunId : RunId;

    /// <summary>
    /// Where the run's data is now: on the server, in the local store, or (partly) in the offline folder awaiting the
    /// server. Read it after the run ended to tell the user the truth about what was delivered.
    /// </summary>
    public RunDataLocation DataLocation => _logsToLocalStore
        ? RunDataLocation.LocalStore
        : Mirror is { Dirty: true } ? RunDataLocation.OfflineAwaitingSync : RunDataLocation.Server; // the mirror holds what the server lacks until drained

    /// <summary>The experiment the run belongs to.</summary>
    public string ExperimentId { get; }

    /// <summary>The run name (given or generated).</summary>
    public string RunName { get; }

    /// <summary>
    /// <see langword="true"/> while the tracking server cannot be reached and what this run logs is kept in the local
    /// store (<see cref="MlflowOfflineOptions.Directory"/>) instead; it is sent when the server answers again.
    /// </summary>
    public bool IsOffline => Mirror is { Active: true, ServerDown: true };

    /// <summary><see cref="RunStatus.Running"/> until the run is ended, then the status it was ended with.</summary>
    public RunStatus Status => _status;

    internal RunBuffer Buffer { get; }

    /// <summary>The tracker that started the run (its store: the server's client, or the local store).</summary>
    internal MlflowTracker Tracker => _tracker;

    /// <summary>
    /// The run's local copy (offline fallback), once it has one; kept here once seen, because the offline layer forgets an
    /// ended run when its copy is drained, and the run's <see cref="ServerRunId"/> and <see cref="DataLocation"/> are
    /// read from it after that.
    /// </summary>
    internal Offline.RunMirror? Mirror => _mirror ??= _tracker.MirrorOf(Buffer);

    internal bool IsEnded => Volatile.Read(ref _ending) != 0;

    /// <summary>Starts a nested run in the same experiment (tag <c>mlflow.parentRunId</c> = this run).</summary>
    /// <param name="runName">The child's name; generated when <see langword="null"/>.</param>
    /// <param name="tags">Extra tags; they override system tags.</param>
    /// <returns>The child run; dispose it before this one.</returns>
    public ActiveRun StartChildRun(string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null)
        => _tracker.StartRunCoreAsync(runName, tags, this, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Waits until every entry logged so far was sent (or given up on); while the run is offline, until it is on local disk.</summary>
    /// <param name="cancellationToken">Stops waiting (the entries stay queued).</param>
    /// <returns>A task that completes when the entries are delivered.</returns>
    /// <exception cref="MlflowRejectedEntriesException">Entries of this run were rejected since the last report.</exception>
    /// <exception cref="MlflowException">The run is offline and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> is set (the entries are kept locally).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _batcher.FlushRunAsync(Buffer, Buffer.Appended, cancellationToken).ConfigureAwait(false);
        ThrowIfRejected();
        _tracker.ThrowIfOffline(this);
    }

    /// <summary>Waits for the queued entries (see <see cref="MlflowBatchingOptions.ShutdownTimeout"/>) and ends the run with a status; later calls do nothing.</summary>
    /// <remarks>With the offline fallback, a status the server cannot take within the shutdown timeout is kept in the
    /// local store with the run's end time (a warning says so) and sent when the server answers, or by <c>mlflow-sync</c>.</remarks>
    /// <param name="status">The final status (default FINISHED).</param>
    /// <exception cref="MlflowRejectedEntriesException">Entries of this run were rejected (the run is ended anyway).</exception>
    public void End(RunStatus status = RunStatus.Finished)
    {
        EndCoreAsync(status, _tracker.ShutdownTimeout).GetAwaiter().GetResult();
        ThrowIfRejected();
    }

    /// <summary>Ends the run as FAILED (after a bounded flush).</summary>
    /// <param name="exception">The failure, logged as a warning; not sent to the server.</param>
    /// <exception cref="MlflowRejectedEntriesException">Entries of this run were rejected (the run is ended anyway).</exception>
    public void Fail(Exception? exception = null)
    {
        if (!IsEnded)
        {
            TrackingLog.RunFailed(_tracker.Logger, RunId, exception is null ? "marked failed" : exception.GetType().Name + ": " + exception.Message);
        }

        End(RunStatus.Failed);
    }

    /// <summary>
    /// Flushes and ends the run as FINISHED unless it was already ended. Never throws, so in a <c>using</c> block it does
    /// not replace the exception the body threw: entries the server rejected are logged, counted
    /// (<see cref="MlflowTracker.Counters"/>) and listed in <see cref="RejectedEntries"/>; call <see cref="End"/> to have
    /// them thrown.
    /// </summary>
    public void Dispose() => EndQuietlyAsync().GetAwaiter().GetResult();

    /// <summary>Flushes and ends the run as FINISHED unless it was already ended; never throws (see <see cref="Dispose"/>).</summary>
    /// <returns>A task that completes when the run is ended.</returns>
    public ValueTask DisposeAsync() => new(EndQuietlyAsync());

    /// <summary>Every entry of this run the server rejected so far (the other entries of their batches were delivered).</summary>
    public IReadOnlyList<RejectedLogEntry> RejectedEntries => Buffer.Rejections;

    private async Task EndQuietlyAsync()
    {
        try
        {
            await EndCoreAsync(RunStatus.Finished, _tracker.ShutdownTimeout).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a dispose must not replace the exception of the using block's body; the failure is logged
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.EndFailed(_tracker.Logger, ex, RunId, RunStatus.Finished);
        }
    }

    /// <summary>
    /// Stops intake and waits for the queued entries for as long as the server takes them; when it took none for
    /// <paramref name="stall"/> (or <paramref name="deadline"/> is cancelled) what is left goes to the outbox on disk
    /// (the offline store), sent while the tracker lives or by <c>mlflow-sync</c>. Then sends the status once. A second
    /// caller waits for the first one's end. Returns whether the server stalled.
    /// </summary>
    internal async Task<bool> EndCoreAsync(RunStatus status, TimeSpan stall, CancellationToken deadline = default)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
        {
            return await _ended.Task.ConfigureAwait(false);
        }

        var stalled = false;
        try
        {
            stalled = !await SettleForEndAsync(stall, deadline).ConfigureAwait(false);
            // The status goes after the entries (or into the outbox after them); it is given at least a second.
            var updateBudget = stalled || stall < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : stall;
            using var updateCts = new CancellationTokenSource(updateBudget);
            try
            {
                await _tracker.EndOnStoreAsync(this, status, updateCts.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // ending must not throw over the caller's own exception; the failure is logged
            catch (Exception ex)
#pragma warning restore CA1031
            {
                TrackingLog.EndFailed(_tracker.Logger, ex, RunId, status);
            }

            _status = status;
            _tracker.OnRunEnded(this);
        }
        finally
        {
            _ended.TrySetResult(stalled);
        }

        return stalled;
    }

    /// <summary>
    /// Waits while the server takes the run's queued entries; when it stops taking them, moves the rest to the outbox and
    /// waits for the disk. <see langword="false"/> when the server stalled (or the deadline passed).
    /// </summary>
    private async Task<bool> SettleForEndAsync(TimeSpan stall, CancellationToken deadline)
    {
        var target = Buffer.Close();
        if (await _batcher.SettleRunAsync(Buffer, target, stall, deadline).ConfigureAwait(false))
        {
            return true;
        }

        var pending = Buffer.Unsettled;
        var logger = _tracker.Logger;
        if (!_tracker.CanKeepOffline(this) || !_batcher.MoveToOutbox(Buffer))
        {
            TrackingLog.EndFlushStalled(logger, RunId, pending, (long)stall.TotalMilliseconds);
            return false;
        }

        if (stall == TimeSpan.Zero)
        {
            TrackingLog.EndWithoutWaiting(logger, RunId, pending, _tracker.OfflineDirectory ?? "");
        }
        else
        {
            TrackingLog.EndMovedToOutbox(logger, RunId, pending, (long)stall.TotalMilliseconds, _tracker.OfflineDirectory ?? "");
        }

        var diskStall = stall > OutboxWriteStall ? stall : OutboxWriteStall;
        if (!await _batcher.SettleRunAsync(Buffer, target, diskStall, CancellationToken.None).ConfigureAwait(false))
        {
            TrackingLog.EndNotKept(logger, RunId, Buffer.Unsettled, (long)diskStall.TotalMilliseconds);
        }

        return false;
    }

    private void ThrowIfRejected()
    {
        var rejected = Buffer.TakeUnreportedRejections();
        if (rejected.Count > 0)
        {
            throw new MlflowRejectedEntriesException(RunId, rejected);
        }
    }

    /// <summary>
    /// Checks a key by MLflow's rule and, when this run may write to a local store, by the store's file-name rule
    /// (<see cref="FileStore.FileStorePaths.ValidateKey(string?, string)"/>, the code the store runs itself); skips keys this thread
    /// already checked by the same rule (same string instance: strings are immutable).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ValidateKey(string? key, string kind)
    {
        var cache = _keysAreFileNames ? t_storableKeys ??= new string?[KeyCacheSize] : t_validKeys ??= new string?[KeyCacheSize];
        var slot = RuntimeHelpers.GetHashCode(key) & (KeyCacheSize - 1);
        if (key is not null && ReferenceEquals(cache[slot], key))
        {
            return;
        }

        FileStore.FileStorePaths.ValidateKey(key, kind, _keysAreFileNames);
        cache[slot] = key;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long NowMs() => _preciseTimestamps ? LoggingClock.PreciseNowMs() : LoggingClock.NowMs();
}
