using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Sync;

/// <summary>What <see cref="MlflowSync.SyncAsync"/> pushes, from where, to where.</summary>
public sealed record SyncOptions
{
    /// <summary>
    /// The local store: a folder or a <c>file:</c> URI. When <see langword="null"/>, MLflow's own default applies
    /// (<c>MLFLOW_TRACKING_DIR</c>, else <c>./mlruns</c>). The folder must exist; it is never created.
    /// </summary>
    public string? From { get; init; }

    /// <summary>The tracking server (<c>http(s)://host:port</c>); when <see langword="null"/>, <see cref="Client"/>'s URI or <c>MLFLOW_TRACKING_URI</c>.</summary>
    public string? To { get; init; }

    /// <summary>
    /// Credentials, TLS, timeouts and retries (<see cref="MlflowClientOptions.Retry"/>: the one retry budget of each
    /// request) for the server; unset values come from the <c>MLFLOW_TRACKING_*</c> and <c>MLFLOW_HTTP_REQUEST_*</c>
    /// environment variables.
    /// </summary>
    public MlflowClientOptions? Client { get; init; }

    /// <summary>Only runs of the local experiment with this name.</summary>
    public string? ExperimentName { get; init; }

    /// <summary>Only this local run (and its parent runs, so the child can point at them on the server).</summary>
    public string? RunId { get; init; }

    /// <summary>Reads the local store and the sync journals only and reports what would be sent; nothing is sent and the server is not contacted.</summary>
    public bool DryRun { get; init; }

    /// <summary>Where sync logs go (one line per run, reconciliations; the client logs its retries); none when <see langword="null"/>.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Wraps the HTTP handler of the client sync creates (tests inject lost answers with it).</summary>
    internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; init; }

    /// <summary>Log-batch requests of metric points in flight at once (default 2, as the tracker and <c>mlflow server</c>'s workers).</summary>
    internal int MaxConcurrentRequests { get; init; } = 2;

    /// <summary>Metric points per log-batch request (the server allows 1000).</summary>
    internal int MetricBatchSize { get; init; } = 1000;
}
