using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mlflow.Client.Extensions.Hosting;

/// <summary>
/// Ends the tracker's active runs when the host stops. It works in <see cref="StoppedAsync"/>, after every hosted
/// service has stopped whatever the order of registration, so a worker may still log while it stops; the runs it left
/// active are flushed and ended as KILLED (interrupted, as on a signal without a host); at the end of what is left of
/// the host's <see cref="HostOptions.ShutdownTimeout"/> what the server has not taken goes to the offline store.
/// </summary>
/// <remarks>Taking the tracker in its constructor makes the host create it at start, so a wrong tracking URI fails the start.</remarks>
internal sealed partial class MlflowTrackingHostedService(MlflowTracker tracker, IOptions<HostOptions> hostOptions, IOptions<MlflowTrackerOptions> trackerOptions, ILogger<MlflowTrackingHostedService> logger) : IHostedLifecycleService
{
    /// <summary>Kept from the host's budget for the runs' final status updates, which the tracker gives at least a second each.</summary>
    private static readonly TimeSpan StatusReserve = TimeSpan.FromSeconds(1);

    private long _stoppingSince;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _stoppingSince, Stopwatch.GetTimestamp(), 0);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _stoppingSince, Stopwatch.GetTimestamp(), 0);
        var budget = Budget(hostOptions.Value.ShutdownTimeout, Stopwatch.GetElapsedTime(Interlocked.Read(ref _stoppingSince)));
        Log.EndingRuns(logger, budget.TotalMilliseconds);
        // The runs' entries are waited for while the server takes them (the tracker's ShutdownTimeout bounds a stall);
        // at the host's deadline what is still queued goes to the offline store on disk instead of being left behind.
        using var deadline = new CancellationTokenSource(budget);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        await tracker.EndActiveRunsAsync(RunStatus.Killed, trackerOptions.Value.Batching.ShutdownTimeout, either.Token).ConfigureAwait(false);
        if (deadline.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            Log.ShutdownTimedOut(logger, hostOptions.Value.ShutdownTimeout.TotalMilliseconds);
        }
    }

    /// <summary>What is left of the host's shutdown timeout, less the reserve for status updates; infinite when the host has no timeout.</summary>
    internal static TimeSpan Budget(TimeSpan hostTimeout, TimeSpan elapsed)
    {
        if (hostTimeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var left = hostTimeout - elapsed - StatusReserve;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "The host is stopping: flushing the MLflow runs still active and ending them as KILLED within {BudgetMs} ms.")]
        public static partial void EndingRuns(ILogger logger, double budgetMs);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "The host's shutdown timeout ({TimeoutMs} ms) ran out before the MLflow server took every entry of the runs it ended: the rest went to the offline store, sent while the tracker lives or by mlflow-sync.")]
        public static partial void ShutdownTimedOut(ILogger logger, double timeoutMs);
    }
}
