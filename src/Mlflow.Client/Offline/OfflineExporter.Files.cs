// What a run records that is not a log entry (artifact files, dataset inputs): to the server, else into the run's local copy.
using Mlflow.Client.Batching;
using Mlflow.Client.Resilience;

namespace Mlflow.Client.Offline;

internal sealed partial class OfflineExporter
{
    /// <summary>Why data goes to the copy when the run's entries already go there.</summary>
    private const string RunIsOffline = "the run's data is kept offline";

    /// <summary>
    /// The one "send it, else keep it" of data that is not a log entry: while the run's entries go to its local copy,
    /// straight into the copy (after them); else to the server once (a server that refuses connections is not there),
    /// and when it cannot be reached (and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> is off) into the
    /// copy, which the drain and <c>mlflow-sync</c> send once.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="toServer">Sends the data to the server.</param>
    /// <param name="toCopy">Writes it into the local copy, given the local store and the local run id (may be called after <paramref name="toServer"/> failed).</param>
    /// <param name="cancellationToken">Cancels the send or the write.</param>
    public async Task SendOrKeepAsync(RunBuffer run, Func<CancellationToken, Task> toServer, Func<FileStore.LocalFileStore, string, Task> toCopy, CancellationToken cancellationToken)
    {
        var reason = RunIsOffline;
        if (MirrorOf(run) is not { Active: true })
        {
            try
            {
                using var scope = RequestScope.Enter(_local.Options.ThrowOnConnectivityFailure ? RequestFlags.None : RequestFlags.NoRetryWhenRefused);
                await toServer(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (MlflowException ex) when (ex.IsTransient && !_local.Options.ThrowOnConnectivityFailure && CanKeepOffline(run))
            {
                reason = ex.ShortReason;
            }
        }

        await KeepLocallyAsync(run, reason, (store, localRunId, _) => toCopy(store, localRunId), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes something that is not a log entry straight into the run's local copy (the run is kept offline), as
    /// <see cref="KeepLocallyAsync"/> does; the metric points <paramref name="write"/> appended to the local run (a
    /// logged model links the run's points at its step) are counted as the copy's, so later in-flight marks name the
    /// right points of its metric files.
    /// </summary>
    /// <typeparam name="T">What the write returns.</typeparam>
    /// <param name="run">The run.</param>
    /// <param name="write">Writes it, given the local store and the local run id; returns its result and the points it appended to the run.</param>
    /// <param name="cancellationToken">Cancels the wait for the copy's gate.</param>
    public async Task<T> KeepInCopyAsync<T>(RunBuffer run, Func<FileStore.LocalFileStore, string, (T Result, IReadOnlyList<Metric> Appended)> write, CancellationToken cancellationToken)
    {
        T result = default!;
        await KeepLocallyAsync(run, RunIsOffline, (store, localRunId, mirror) =>
        {
            var (value, appended) = write(store, localRunId);
            foreach (var point in appended)
            {
                mirror.MetricCounts[point.Key] = mirror.MetricCounts.GetValueOrDefault(point.Key) + 1;
            }

            result = value;
            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Writes into the run's local copy whatever the server may hold (an assessment of a trace kept there), after what is
    /// already in it: the drain and <c>mlflow-sync</c> send it once.
    /// </summary>
    /// <param name="run">The run (followed by this layer: <see cref="CanKeepOffline"/>).</param>
    /// <param name="write">Writes it, given the local store and the local run id; called under the copy's gate.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate and the write.</param>
    public Task KeepInCopyAsync(RunBuffer run, Func<FileStore.LocalFileStore, string, Task> write, CancellationToken cancellationToken)
        => KeepLocallyAsync(run, RunIsOffline, (store, localRunId, _) => write(store, localRunId), cancellationToken);

    /// <summary>
    /// Writes something that is not a log entry (an artifact file, dataset inputs) into the run's local copy (opened when
    /// needed; the run's data then goes there until a drain), forces it to disk and marks the copy for the drain, which
    /// sends it once: the one way such data reaches the offline layer.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="reason">Why the data is kept offline (for the one-time warning).</param>
    /// <param name="write">Writes it, given the local store, the local run id and the copy; called under the copy's gate.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate and the write.</param>
    private async Task KeepLocallyAsync(RunBuffer run, string reason, Func<FileStore.LocalFileStore, string, RunMirror, Task> write, CancellationToken cancellationToken)
    {
        var tracked = _runs.TryGetValue(run, out var t) ? t : throw new InvalidOperationException($"Run {run.RunId} is not followed by the offline layer.");
        var mirror = EnsureMirror(tracked, reason);
        await mirror.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            mirror.Apply(MirrorEvent.ServerDown);
            try
            {
                await write(_local.Store, mirror.LocalRunId, mirror).ConfigureAwait(false);
            }
            finally
            {
                mirror.Apply(MirrorEvent.Written);
            }

            _local.FlushToDisk(force: true);
            WakeWhenDue(mirror);
        }
        finally
        {
            mirror.Gate.Release();
        }
    }
}
