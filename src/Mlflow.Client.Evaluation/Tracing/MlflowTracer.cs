using System.Diagnostics;

namespace Mlflow.Client.Tracing;

/// <summary>
/// Captures traces without the OpenTelemetry SDK: listens to chosen activity sources (by default Microsoft.Extensions.AI's
/// and Semantic Kernel's, <see cref="MlflowTracingOptions.ActivitySources"/>) and to its own manual spans (<see cref="StartSpan"/>),
/// and logs one MLflow trace per root span, in the background, to a tracking server: with a tracker, linked to its
/// active run and in that run's experiment. Create one per process and dispose it at the end (it then sends what is
/// queued, within <see cref="MlflowTracingOptions.ShutdownTimeout"/>).
/// </summary>
/// <remarks>
/// A program that already uses the OpenTelemetry SDK adds <c>AddMlflowExporter</c> to its tracer provider instead; both
/// convert spans the same way. Span types come from <c>gen_ai.operation.name</c> (<c>chat</c> → <c>CHAT_MODEL</c>,
/// <c>execute_tool</c> → <c>TOOL</c>, <c>embeddings</c> → <c>EMBEDDING</c>, agents → <c>AGENT</c>), inputs and outputs from
/// the GenAI messages, token usage from <c>gen_ai.usage.*</c>.
/// </remarks>
public sealed class MlflowTracer : IDisposable, IAsyncDisposable
{
    /// <summary>The name of the activity source of manual spans (<see cref="MlflowSpan"/>).</summary>
    public const string ActivitySourceName = "Mlflow.Client.Tracing";

    private readonly TracePipeline _pipeline;
    private readonly ActivityListener _listener;
    private readonly string[] _exact;
    private readonly string[] _prefixes;
    private int _disposed;

    /// <summary>
    /// Logs traces to a tracker's store (an MLflow 3 server, or a local store), linked to its active run
    /// (<see cref="MlflowTracingOptions.RunId"/> to choose one). A trace of the active run goes where the run's data goes:
    /// while the run is offline, or when the server keeps failing after the retries, into the run's offline copy, sent
    /// with it when the server answers (or by <c>mlflow-sync</c>).
    /// </summary>
    /// <param name="tracker">The tracker.</param>
    /// <param name="options">Sources, limits, logging.</param>
    public MlflowTracer(MlflowTracker tracker, MlflowTracingOptions? options = null)
        : this(new TraceDestination.Tracker(tracker ?? throw new ArgumentNullException(nameof(tracker)), options?.RunId), options)
    {
    }

    /// <summary>Logs traces to one experiment of a tracking server (MLflow 3).</summary>
    /// <param name="client">The server's client.</param>
    /// <param name="experimentId">The experiment.</param>
    /// <param name="options">Sources, the run to link to, limits, logging.</param>
    public MlflowTracer(MlflowClient client, string experimentId, MlflowTracingOptions? options = null)
        : this(new TraceDestination.Client(client ?? throw new ArgumentNullException(nameof(client)), RequireExperiment(experimentId), options?.RunId), options)
    {
    }

    private MlflowTracer(TraceDestination destination, MlflowTracingOptions? options)
    {
        options ??= new MlflowTracingOptions();
        _pipeline = new TracePipeline(destination, options);
        var names = options.ActivitySources.Append(ActivitySourceName).ToList();
        _exact = names.Where(n => !n.EndsWith('*')).ToArray();
        _prefixes = names.Where(n => n.EndsWith('*')).Select(n => n[..^1]).ToArray();
        _listener = new ActivityListener
        {
            ShouldListenTo = source => Listens(source.Name),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    internal TracePipeline Pipeline => _pipeline;

    /// <summary>Starts a manual span, a child of the current activity or the root of a new trace; dispose it to end it.</summary>
    /// <param name="name">The span's name, for example <c>retrieve</c>.</param>
    /// <param name="spanType">Its MLflow type (<see cref="SpanType"/>); <c>UNKNOWN</c> when <see langword="null"/>.</param>
    /// <returns>The span.</returns>
    public MlflowSpan StartSpan(string name, string? spanType = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return MlflowSpan.Start(name, spanType);
    }

    /// <summary>Waits until the traces finished so far were logged (or given up on).</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until they were.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns><see langword="true"/> when all of them were handled in time.</returns>
    public Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => _pipeline.FlushAsync(timeout, cancellationToken);

    /// <summary>Waits until the traces finished so far were logged (or given up on), blocking the calling thread.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until they were.</param>
    /// <returns><see langword="true"/> when all of them were handled in time.</returns>
    public bool Flush(TimeSpan timeout) => _pipeline.FlushAsync(timeout).GetAwaiter().GetResult();

    private bool Listens(string name)
        => Array.IndexOf(_exact, name) >= 0 || _prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    private void OnStopped(Activity activity)
    {
        if (!activity.Recorded)
        {
            return;
        }

        _pipeline.OnEnded(activity, TracePipeline.IsTraceRoot(activity, parent => parent.Recorded && Listens(parent.Source.Name)));
    }

    /// <summary>Stops listening and sends what is queued (within <see cref="MlflowTracingOptions.ShutdownTimeout"/>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops listening and sends what is queued (within <see cref="MlflowTracingOptions.ShutdownTimeout"/>).</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _listener.Dispose();
        await _pipeline.ShutdownAsync().ConfigureAwait(false);
        _pipeline.Dispose();
    }

    private static string RequireExperiment(string experimentId)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        return experimentId;
    }
}
