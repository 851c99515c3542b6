namespace Mlflow.Client.Tracing;

/// <summary>Who a trace belongs to, read when its root span ends: the experiment (when known then) and the run it links to.</summary>
/// <param name="ExperimentId">The experiment; <see langword="null"/> to use the destination's.</param>
/// <param name="RunId">The run (trace metadata <c>mlflow.sourceRun</c>), if any.</param>
internal readonly record struct TraceOwner(string? ExperimentId, string? RunId);

/// <summary>Where finished traces are logged: a tracking server through <see cref="MlflowClient.LogTraceAsync"/>.</summary>
internal abstract class TraceDestination
{
    /// <summary>For logs: the server's URI without credentials, or the store's folder.</summary>
    public abstract string Description { get; }

    /// <summary>The user traces are logged as (trace metadata <c>mlflow.user</c>).</summary>
    public abstract string User { get; }

    /// <summary>Reads the owner of a trace whose root just ended, on the thread that ended it (cheap, never blocks).</summary>
    public abstract TraceOwner Capture();

    /// <summary>The experiment a trace goes to when its owner names none.</summary>
    public abstract Task<string> DefaultExperimentIdAsync(CancellationToken cancellationToken);

    /// <summary>Logs the trace (info, then the spans as <c>traces.json</c>).</summary>
    public abstract Task<TraceInfo> LogAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken);

    /// <summary>Traces to one experiment of a server, through a client.</summary>
    internal sealed class Client(MlflowClient client, string experimentId, string? runId) : TraceDestination
    {
        public override string Description => TrackingUriDisplay.Redact(client.TrackingUri.ToString())!;

        public override string User { get; } = SystemTags.ResolveUser(null);

        public override TraceOwner Capture() => new(experimentId, runId);

        public override Task<string> DefaultExperimentIdAsync(CancellationToken cancellationToken) => Task.FromResult(experimentId);

        public override Task<TraceInfo> LogAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
            => client.LogTraceAsync(info, spans, cancellationToken);
    }

    /// <summary>
    /// Traces to a tracker's store, linked to its most recent active run (or the run named in the options), in that run's
    /// experiment, else the tracker's experiment.
    /// </summary>
    internal sealed class Tracker(MlflowTracker tracker, string? runId) : TraceDestination
    {
        public override string Description => tracker.Destination;

        public override string User => tracker.User;

        public override TraceOwner Capture()
        {
            if (runId is not null)
            {
                return new TraceOwner(null, runId);
            }

            // A run started offline has no server id yet: its traces are not linked rather than linked to a local id.
            return tracker.LatestActiveRun is { ServerRunId: { } serverRunId } run ? new TraceOwner(run.ExperimentId, serverRunId) : default;
        }

        public override Task<string> DefaultExperimentIdAsync(CancellationToken cancellationToken)
            => tracker.ActiveExperimentIdForSearchAsync(cancellationToken);

        // Through the tracker's store: a server's LogTraceAsync; a local store (MLflow 3's file store layout for traces)
        // refuses with NotSupportedException until the SDK writes it.
        public override Task<TraceInfo> LogAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
            => tracker.SearchStore.LogTraceAsync(info, spans, cancellationToken);
    }
}
