using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Tracing;

/// <summary>A trace whose root span ended: its id and spans, the root first.</summary>
/// <param name="TraceId">The MLflow trace id (<c>tr-</c> and the OpenTelemetry trace id).</param>
/// <param name="Spans">The spans; the root has no parent.</param>
internal sealed record CompletedTrace(string TraceId, IReadOnlyList<TraceSpan> Spans)
{
    public TraceSpan Root => Spans[0];
}

/// <summary>
/// Groups finished spans by trace until the trace's root ends, then hands the trace on: one MLflow trace per root. Memory
/// is bounded: at most <see cref="MlflowTracingOptions.MaxPendingTraces"/> traces wait for their root (the oldest is
/// dropped when another starts) and at most <see cref="MlflowTracingOptions.MaxSpansPerTrace"/> spans per trace are kept.
/// Thread-safe.
/// </summary>
internal sealed class TraceAssembler
{
    private readonly object _lock = new();
    private readonly Dictionary<string, List<TraceSpan>> _pending = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _order = new(); // trace ids, oldest first
    private readonly HashSet<string> _truncated = new(StringComparer.Ordinal);
    private readonly int _maxPending;
    private readonly int _maxSpans;
    private readonly ILogger _logger;
    private long _droppedSpans;

    public TraceAssembler(int maxPendingTraces, int maxSpansPerTrace, ILogger logger)
    {
        _maxPending = maxPendingTraces;
        _maxSpans = maxSpansPerTrace;
        _logger = logger;
    }

    /// <summary>Spans dropped so far: of traces whose root never ended in time, or beyond a trace's span limit.</summary>
    public long DroppedSpans => Interlocked.Read(ref _droppedSpans);

    /// <summary>Traces waiting for their root.</summary>
    public int PendingTraces
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Adds a finished span; when it is the trace's root, returns the whole trace (and forgets it).</summary>
    /// <param name="span">The span.</param>
    /// <param name="isRoot">Whether it is the root of its MLflow trace (its parent is not captured); it is then given no parent.</param>
    public CompletedTrace? Add(TraceSpan span, bool isRoot)
    {
        lock (_lock)
        {
            if (isRoot)
            {
                var children = _pending.Remove(span.TraceId, out var list) ? list : [];
                if (children.Count > 0)
                {
                    _order.Remove(span.TraceId);
                }

                _truncated.Remove(span.TraceId);
                var spans = new List<TraceSpan>(children.Count + 1) { span with { ParentSpanId = null } };
                spans.AddRange(children.OrderBy(s => s.StartTimeUnixNano));
                return new CompletedTrace(span.TraceId, spans);
            }

            if (!_pending.TryGetValue(span.TraceId, out var pending))
            {
                if (_pending.Count >= _maxPending)
                {
                    EvictOldest();
                }

                pending = [];
                _pending[span.TraceId] = pending;
                _order.AddLast(span.TraceId);
            }

            if (pending.Count >= _maxSpans)
            {
                Interlocked.Increment(ref _droppedSpans);
                if (_truncated.Add(span.TraceId))
                {
                    TracingLog.SpansOverLimit(_logger, span.TraceId, _maxSpans);
                }

                return null;
            }

            pending.Add(span);
            return null;
        }
    }

    private void EvictOldest()
    {
        var oldest = _order.First!.Value;
        _order.RemoveFirst();
        _pending.Remove(oldest, out var spans);
        _truncated.Remove(oldest);
        Interlocked.Add(ref _droppedSpans, spans?.Count ?? 0);
        TracingLog.PendingTraceDropped(_logger, oldest, spans?.Count ?? 0, _maxPending);
    }
}
