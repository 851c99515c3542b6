using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mlflow.Client.Tracing;

/// <summary>
/// What both ways in share: each finished activity is converted once (<see cref="ActivitySpanConverter"/>), grouped
/// with its trace (<see cref="TraceAssembler"/>), and when the trace's root ends the trace is queued, with its owner read
/// at that moment, for the background writer, which builds its info (experiment, run, user, token usage) and logs it to
/// the destination. Nothing here throws into the instrumented code.
/// </summary>
internal sealed class TracePipeline : IDisposable
{
    private const string SourceTypeLocal = "LOCAL";

    private readonly TraceDestination _destination;
    private readonly TraceAssembler _assembler;
    private readonly TraceExportQueue<(CompletedTrace Trace, TraceOwner Owner)> _queue;
    private readonly ILogger _logger;
    private readonly TimeSpan _shutdownTimeout;
    private readonly int _maxQueued;
    private long _logged;
    private long _kept;
    private long _failed;
    private long _lost;
    private long _dropped;
    private int _shutdown;

    public TracePipeline(TraceDestination destination, MlflowTracingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _destination = destination;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Mlflow.Client.Tracing");
        _assembler = new TraceAssembler(options.MaxPendingTraces, options.MaxSpansPerTrace, _logger);
        _queue = new TraceExportQueue<(CompletedTrace, TraceOwner)>(options.MaxQueuedTraces, WriteAsync, options.TimeProvider);
        _shutdownTimeout = options.ShutdownTimeout;
        _maxQueued = options.MaxQueuedTraces;
    }

    /// <summary>Traces logged.</summary>
    public long Logged => Interlocked.Read(ref _logged);

    /// <summary>Traces kept in their run's offline copy (the server could not take them, or the run is offline): sent by the drain or <c>mlflow-sync</c>.</summary>
    public long Kept => Interlocked.Read(ref _kept);

    /// <summary>Traces the destination refused (an answer that sending again cannot change: a 4xx other than 408 and 429, a store that keeps no traces).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Traces the server could not take (unreachable, or still failing after the retries) that had no run's offline copy to wait in.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Traces dropped because the queue was full (spans dropped are <see cref="DroppedSpans"/>).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Spans dropped: of traces whose root never ended in time, or beyond a trace's span limit.</summary>
    public long DroppedSpans => _assembler.DroppedSpans;

    /// <summary>Whether an activity is the root of an MLflow trace: it has no parent, a parent in another process, or a parent that is not captured.</summary>
    /// <param name="activity">The finished activity.</param>
    /// <param name="isCaptured">Whether a parent activity of this process is captured (so the trace ends with it).</param>
    public static bool IsTraceRoot(Activity activity, Func<Activity, bool> isCaptured)
        => activity.ParentSpanId == default || activity.HasRemoteParent || (activity.Parent is { } parent && !isCaptured(parent));

    /// <summary>Takes a finished activity: converts it, and queues its trace when it is the root.</summary>
    public void OnEnded(Activity activity, bool isRoot)
    {
        if (Volatile.Read(ref _shutdown) != 0 || ClaimedTraces.IsClaimed(activity.TraceId))
        {
            return; // a claimed trace is an evaluation record's, logged by the evaluation with its assessments
        }

        CompletedTrace? trace;
        try
        {
            trace = _assembler.Add(ActivitySpanConverter.Convert(activity), isRoot);
        }
#pragma warning disable CA1031 // a span that cannot be converted must not break the instrumented call
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TracingLog.TraceNotLogged(_logger, "tr-" + activity.TraceId.ToHexString(), _destination.Description, "a span could not be converted: " + ex.Message);
            return;
        }

        if (trace is null)
        {
            return;
        }

        if (!_queue.TryEnqueue((trace, _destination.Capture())))
        {
            Interlocked.Increment(ref _dropped);
            TracingLog.TraceQueueFull(_logger, trace.TraceId, _maxQueued);
        }
    }

    /// <summary>Waits until the traces finished so far were logged or given up on.</summary>
    public Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => _queue.FlushAsync(timeout, cancellationToken);

    /// <summary>Stops taking spans and logs what is queued, within the shutdown timeout.</summary>
    /// <returns><see langword="true"/> when nothing was left behind.</returns>
    public async Task<bool> ShutdownAsync(TimeSpan? timeout = null)
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
        {
            return _queue.Pending == 0;
        }

        var wait = timeout ?? _shutdownTimeout;
        var left = await _queue.ShutdownAsync(wait).ConfigureAwait(false);
        if (left > 0)
        {
            TracingLog.ShutdownLeftTraces(_logger, left, (long)wait.TotalMilliseconds);
        }

        return left == 0;
    }

    /// <summary>The info MLflow's Python gives a trace it logs: owner, run, user, source, token usage (the rest comes from the root span).</summary>
    internal static TraceInfo BuildInfo(CompletedTrace trace, string experimentId, string? runId, string user)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SystemTags.User] = user,
            [SystemTags.SourceName] = SystemTags.SourceNameValue,
            [SystemTags.SourceType] = SourceTypeLocal,
        };
        if (SystemTags.GitCommitValue is { } commit)
        {
            metadata[SystemTags.GitCommit] = commit;
        }

        if (runId is not null)
        {
            metadata[TraceKeys.SourceRunMetadata] = runId;
        }

        if (TokenUsageAggregation.Aggregate(trace.Spans) is { } usage)
        {
            metadata[GenAiConventions.TraceTokenUsageMetadata] = usage;
        }

        return new TraceInfo { TraceId = trace.TraceId, ExperimentId = experimentId, Metadata = metadata };
    }

    private async Task WriteAsync((CompletedTrace Trace, TraceOwner Owner) item, CancellationToken cancellationToken)
    {
        var (trace, owner) = item;
        try
        {
            var experimentId = owner.ExperimentId ?? await _destination.DefaultExperimentIdAsync(cancellationToken).ConfigureAwait(false);
            var info = BuildInfo(trace, experimentId, owner.RunId, _destination.User);
            if (await _destination.LogAsync(info, trace.Spans, owner, cancellationToken).ConfigureAwait(false) is { } folder)
            {
                Interlocked.Increment(ref _kept); // the tracker said where and how it is sent (once per tracker)
                TracingLog.TraceKept(_logger, trace.TraceId, folder);
                return;
            }

            Interlocked.Increment(ref _logged);
            TracingLog.TraceLogged(_logger, trace.TraceId, experimentId, trace.Spans.Count);
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            Interlocked.Increment(ref _failed);
            TracingLog.TraceNotLogged(_logger, trace.TraceId, _destination.Description, ex.Message);
        }
#pragma warning disable CA1031 // whatever keeps one trace from being logged is logged and counted; the next is tried
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Unreachable, or still failing after the HTTP pipeline's retries, and no run's offline copy to keep it in
            // (no run, the offline fallback off, or a run the tracker no longer follows).
            Interlocked.Increment(ref _lost);
            TracingLog.TraceLost(_logger, trace.TraceId, _destination.Description, ex.Message);
        }
    }

    /// <summary>A failure that sending again cannot heal: the server's refusal, a store without traces, a trace it cannot take.</summary>
    private static bool IsRefusal(Exception ex)
        => ex is MlflowException { IsTransient: false, Kind: not MlflowFailureKind.Cancelled } or NotSupportedException or ArgumentException;

    public void Dispose()
    {
        Interlocked.Exchange(ref _shutdown, 1);
        _queue.Dispose();
    }
}
