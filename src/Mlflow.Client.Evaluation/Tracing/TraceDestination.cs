namespace Mlflow.Client.Tracing;

/// <summary>Who a trace belongs to, read when its root span ends: the experiment (when known then) and the run it links to.</summary>
/// <param name="ExperimentId">The experiment; <see langword="null"/> to use the destination's.</param>
/// <param name="RunId">The run (trace metadata <c>mlflow.sourceRun</c>), if any.</param>
/// <param name="Run">The tracker's run it belongs to, if any: its trace goes where the run's data goes (its offline copy while it is offline).</param>
internal readonly record struct TraceOwner(string? ExperimentId, string? RunId, ActiveRun? Run = null);

/// <summary>Where finished traces are logged: a tracking server through <see cref="MlflowClient.LogTraceAsync"/>, or a tracker's store.</summary>
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
    /// <returns>Where it went: the folder of the offline copy it waits in, or <see langword="null"/> when it was logged.</returns>
    public abstract Task<string?> LogAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, TraceOwner owner, CancellationToken cancellationToken);

    /// <summary>Traces to one experiment of a server, through a client.</summary>
    internal sealed class Client(MlflowClient client, string experimentId, string? runId) : TraceDestination
    {
        public override string Description => TrackingUriDisplay.Redact(client.TrackingUri.ToString())!;

        public override string User { get; } = SystemTags.ResolveUser(null);

        public override TraceOwner Capture() => new(experimentId, runId);

        public override Task<string> DefaultExperimentIdAsync(CancellationToken cancellationToken) => Task.FromResult(experimentId);

        public override async Task<string?> LogAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, TraceOwner owner, CancellationToken cancellationToken)
        {
            await client.LogTraceAsync(info, spans, cancellationToken).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// Traces to a tracker's store, linked to its most recent active run (or the run named in the options), in that run's
    /// experiment and through its offline copy when it is one of the tracker's active runs, else in the tracker's experiment.
    /// </summary>
    internal sealed class Tracker(MlflowTracker tracker, string? runId) : TraceDestination
    {
        public override string Description => tracker.Destination;

        public override string User => tracker.User;

        public override TraceOwner Capture()
        {
            if (runId is not null)
            {
                // A run of this tracker is treated as the latest one is (its experiment, its offline copy); another
                // run is linked by id, in the tracker's experiment.
                return tracker.FindActiveRun(runId) is { } named ? new TraceOwner(named.ExperimentId, named.RunId, named) : new TraceOwner(null, runId);
            }

            // The run's trace goes where its data goes: a run that is offline (or started offline, with no server id
            // yet) keeps it in its offline copy, linked to the local run, and the drain or mlflow-sync pushes it.
            return tracker.LatestActiveRun is { } run ? new TraceOwner(run.ExperimentId, run.RunId, run) : default;
        }

        public override Task<string> DefaultExperimentIdAsync(CancellationToken cancellationToken)
            => tracker.ActiveExperimentIdForSearchAsync(cancellationToken);

        // A trace of a run through the tracker (its store, or the run's offline copy); another through the tracker's store.
        public override async Task<string?> LogAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, TraceOwner owner, CancellationToken cancellationToken)
        {
            if (owner.Run is { } run)
            {
                return (await tracker.LogRunTraceAsync(run, info, spans, cancellationToken).ConfigureAwait(false)).OfflineDirectory;
            }

            await tracker.SearchStore.LogTraceAsync(info, spans, cancellationToken).ConfigureAwait(false);
            return null;
        }
    }
}
