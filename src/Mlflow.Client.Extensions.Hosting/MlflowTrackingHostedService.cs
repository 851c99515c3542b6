using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mlflow.Client.Extensions.Hosting;

/// <summary>
/// Ends the tracker's active runs when the host stops. It works in <see cref="StoppedAsync"/>, after every hosted
/// service has stopped whatever the order of registration, so a worker may still log while it stops; the runs it left
/// active are flushed and ended as KILLED (interrupted, as on a signal without a host), within what is left of the
/// host's <see cref="HostOptions.ShutdownTimeout"/>.
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
        var budget = Budget(hostOptions.Value.ShutdownTimeout, Stopwatch.GetElapsedTime(Interlocked.Read(ref _stoppingSince)), trackerOptions.Value.Batching.ShutdownTimeout);
        Log.EndingRuns(logger, budget.TotalMilliseconds);
        try
        {
            // The host cancels this token when its shutdown timeout is over: then it stops waiting, and the runs still
            // ending go on until the container disposes the tracker.
            await tracker.EndActiveRunsAsync(RunStatus.Killed, budget).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.ShutdownTimedOut(logger, hostOptions.Value.ShutdownTimeout.TotalMilliseconds);
        }
    }

    /// <summary>What is left of the host's shutdown timeout, less the reserve for status updates; the tracker's own when the host has none.</summary>
    internal static TimeSpan Budget(TimeSpan hostTimeout, TimeSpan elapsed, TimeSpan trackerTimeout)
    {
        if (hostTimeout == Timeout.InfiniteTimeSpan)
        {
            return trackerTimeout;
        }

        var left = hostTimeout - elapsed - StatusReserve;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "The host is stopping: flushing the MLflow runs still active and ending them as KILLED within {BudgetMs} ms.")]
        public static partial void EndingRuns(ILogger logger, double budgetMs);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "The host's shutdown timeout ({TimeoutMs} ms) ran out before the MLflow runs were ended; what was not sent stays queued until the tracker is disposed.")]
        public static partial void ShutdownTimedOut(ILogger logger, double timeoutMs);
    }
}
