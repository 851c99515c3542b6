using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// The spans the application emits while it answers a record, as <c>mlflow.genai.evaluate</c> traces <c>predict_fn</c>:
/// each record's call runs under a root <see cref="Activity"/> of its own trace, and every activity of a captured source
/// (Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c>, Semantic Kernel, <see cref="MlflowSpan"/>, by default) started
/// inside it, in the same async flow, is converted as <see cref="MlflowTracer"/> converts it and kept for that record's
/// trace, with its parent (the nearest captured ancestor, else the root). Records evaluated at once never mix: each has
/// its own trace id, and <see cref="Activity.Current"/> flows per async context. Other traces are not recorded here, and
/// the record traces are claimed (<see cref="ClaimedTraces"/>) so a tracer or exporter of the process leaves them alone.
/// </summary>
internal sealed class RecordSpanCapture : IDisposable
{
    /// <summary>The source of the records' root activities.</summary>
    internal const string ActivitySourceName = "Mlflow.Client.Evaluation";

    /// <summary>Spans kept per record (as <see cref="MlflowTracingOptions.MaxSpansPerTrace"/>'s default); later ones are dropped and logged.</summary>
    internal const int MaxSpansPerRecord = 1000;

    private static readonly ActivitySource Source = new(ActivitySourceName, typeof(RecordSpanCapture).Assembly.GetName().Version?.ToString());

    private readonly ConcurrentDictionary<ActivityTraceId, Recording> _recordings = new();
    private readonly ConcurrentQueue<ActivityTraceId> _claimed = new();
    private readonly ActivityListener _listener;
    private readonly string[] _exact;
    private readonly string[] _prefixes;
    private readonly ILogger _logger;

    /// <param name="sources">The activity sources captured besides the manual spans': exact names, or prefixes ending with <c>*</c>.</param>
    /// <param name="logger">Where a span that cannot be converted, or spans over the limit, are reported.</param>
    public RecordSpanCapture(IEnumerable<string> sources, ILogger logger)
    {
        var names = sources.Append(MlflowTracer.ActivitySourceName).ToList();
        _exact = names.Where(n => !n.EndsWith('*')).ToArray();
        _prefixes = names.Where(n => n.EndsWith('*')).Select(n => n[..^1]).ToArray();
        _logger = logger;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName || Listens(source.Name),
            // Only the records' roots and what starts under them: this listener changes nothing for other traces.
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Source.Name == ActivitySourceName || _recordings.ContainsKey(options.Parent.TraceId)
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.None,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Starts the root of a record's trace as the current activity (a new trace, whatever was current); stop it with <see cref="Recording.Stop"/> in the same async flow.</summary>
    /// <param name="name">The root span's name.</param>
    /// <returns>The recording.</returns>
    public Recording Start(string name)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var root = Source.StartActivity(name, ActivityKind.Internal);
        if (root is null)
        {
            root = new Activity(name);
            root.SetIdFormat(ActivityIdFormat.W3C);
            root.Start();
        }

        var recording = new Recording(this, root, previous, _logger);
        _recordings[root.TraceId] = recording;
        ClaimedTraces.Claim(root.TraceId);
        _claimed.Enqueue(root.TraceId);
        return recording;
    }

    /// <summary>Records being captured (started and not stopped).</summary>
    internal int RecordingCount => _recordings.Count;

    /// <summary>
    /// Forgets a stopped record: its root, spans and messages are the caller's now, and spans that end later are not
    /// sampled or kept. Its trace id stays claimed until <see cref="Dispose"/>, so a late span is still not a tracer's.
    /// </summary>
    private void Forget(Recording recording) => _recordings.TryRemove(new KeyValuePair<ActivityTraceId, Recording>(recording.Root.TraceId, recording));

    private bool Listens(string name)
        => Array.IndexOf(_exact, name) >= 0 || _prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    private bool Captured(Activity activity)
        => activity.Recorded && (activity.Source.Name == ActivitySourceName || Listens(activity.Source.Name));

    private void OnStopped(Activity activity)
    {
        if (!_recordings.TryGetValue(activity.TraceId, out var recording) || ReferenceEquals(activity, recording.Root) || !activity.Recorded)
        {
            return;
        }

        TraceSpan span;
        try
        {
            span = ActivitySpanConverter.Convert(activity);
        }
#pragma warning disable CA1031 // a span that cannot be converted must not break the application's call
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LlmEvaluationLog.SpanNotConverted(_logger, recording.TraceId, activity.DisplayName, ex.Message);
            return;
        }

        // Under the nearest ancestor that is in the trace, so a span of a source not captured leaves no hole. A parent
        // given as a context only (no activity object) is kept; the trace's assembly re-parents a span whose parent is
        // not in the trace to the root.
        var parent = activity.Parent;
        for (var depth = 0; parent is not null && !ReferenceEquals(parent, recording.Root) && !Captured(parent) && depth < 256; depth++)
        {
            parent = parent.Parent;
        }

        if (parent is not null)
        {
            span = span with { ParentSpanId = ReferenceEquals(parent, recording.Root) || !Captured(parent) ? recording.RootSpanId : parent.SpanId.ToHexString() };
        }

        recording.Add(span);
    }

    /// <summary>Stops capturing; the records' trace ids are released.</summary>
    public void Dispose()
    {
        _listener.Dispose();
        while (_claimed.TryDequeue(out var traceId))
        {
            ClaimedTraces.Release(traceId);
        }

        _recordings.Clear();
    }

    /// <summary>One record's trace being captured: its root activity and the spans ended under it so far.</summary>
    internal sealed class Recording
    {
        private readonly object _lock = new();
        private readonly RecordSpanCapture _owner;
        private readonly List<TraceSpan> _spans = [];
        private readonly Activity? _previous;
        private readonly ILogger _logger;
        private bool _closed;
        private int _dropped;

        internal Recording(RecordSpanCapture owner, Activity root, Activity? previous, ILogger logger)
        {
            _owner = owner;
            Root = root;
            _previous = previous;
            _logger = logger;
            TraceId = TraceIds.FromOpenTelemetryTraceId(root.TraceId.ToHexString());
            RootSpanId = root.SpanId.ToHexString();
        }

        /// <summary>The root activity.</summary>
        public Activity Root { get; }

        /// <summary>The MLflow trace id (<c>tr-</c> and the activity's trace id).</summary>
        public string TraceId { get; }

        /// <summary>The root span's id.</summary>
        public string RootSpanId { get; }

        internal void Add(TraceSpan span)
        {
            lock (_lock)
            {
                if (!_closed && _spans.Count < MaxSpansPerRecord)
                {
                    _spans.Add(span);
                    return;
                }

                _dropped++;
            }
        }

        /// <summary>
        /// Ends the root, makes the activity that was current before <see cref="Start"/> current again (what runs next,
        /// the scorers, is not part of the record's trace), and returns the spans captured, by start time. A span that
        /// ends later is not kept: the capture lets go of the record, so what it holds does not grow with the records.
        /// </summary>
        public IReadOnlyList<TraceSpan> Stop()
        {
            Root.Stop();
            Activity.Current = _previous;
            List<TraceSpan> spans;
            int dropped;
            lock (_lock)
            {
                _closed = true;
                spans = _spans.OrderBy(s => s.StartTimeUnixNano).ToList();
                _spans.Clear();
                dropped = _dropped;
            }

            _owner.Forget(this);

            if (dropped > 0)
            {
                LlmEvaluationLog.SpansOverLimit(_logger, TraceId, dropped, MaxSpansPerRecord);
            }

            return spans;
        }
    }
}
