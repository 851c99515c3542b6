using Microsoft.Extensions.Logging;

namespace Mlflow.Client;

/// <summary>Settings of an <see cref="MlflowTracker"/>. Unset values fall back to the <c>MLFLOW_*</c> environment variables, as in MLflow's Python client.</summary>
public sealed class MlflowTrackerOptions
{
    /// <summary>
    /// The tracking URI (wins over <see cref="MlflowClientOptions.TrackingUri"/>): <c>http(s)://</c> for a server; no URI,
    /// a <c>file:</c> URI or a plain path for the local store. <see langword="null"/> means <c>MLFLOW_TRACKING_URI</c>.
    /// </summary>
    public string? TrackingUri { get; set; }

    /// <summary>Credentials, TLS and timeouts for a tracking server.</summary>
    public MlflowClientOptions Client { get; set; } = new();

    /// <summary>The experiment to log to by name, created when missing (<c>MLFLOW_EXPERIMENT_NAME</c>).</summary>
    public string? ExperimentName { get; set; }

    /// <summary>The experiment to log to by id (<c>MLFLOW_EXPERIMENT_ID</c>); with neither set, <c>"0"</c> (Default).</summary>
    public string? ExperimentId { get; set; }

    /// <summary>Queueing and background sending.</summary>
    public MlflowBatchingOptions Batching { get; set; } = new();

    /// <summary>What happens when the tracking server cannot be reached (default: the run goes on offline, nothing is lost).</summary>
    public MlflowOfflineOptions Offline { get; set; } = new();

    /// <summary>What happens to over-long param and tag values (default: truncate with a warning).</summary>
    public OverlongValuePolicy OverlongValuePolicy { get; set; } = OverlongValuePolicy.Truncate;

    /// <summary>
    /// Whether the tracker hooks process exit, Ctrl+C, SIGTERM and SIGHUP to flush and end its active runs as KILLED
    /// (default <see langword="true"/>). Set it to <see langword="false"/> when a host owns shutdown, as the generic host
    /// does (its lifetime handles Ctrl+C and SIGTERM): then end the runs yourself when it stops, with
    /// <see cref="MlflowTracker.EndActiveRunsAsync"/> or by disposing the tracker. <c>AddMlflowTracking</c> of
    /// Mlflow.Client.Extensions.Hosting sets it off and ends them in a hosted service.
    /// </summary>
    public bool HandleProcessShutdown { get; set; } = true;

    /// <summary>
    /// Where the <see cref="HttpClient"/> to a tracking server comes from, named by <see cref="MlflowClientOptions.HttpClientName"/>
    /// of <see cref="Client"/>; <see langword="null"/> (the default): the tracker owns one. Not used for a local store.
    /// </summary>
    public IHttpClientFactory? HttpClientFactory { get; set; }

    /// <summary>
    /// Where the tracker logs (<see langword="null"/> by default: see <see cref="WarningsToStandardError"/>). Given a
    /// factory, every message goes to it and nothing to standard error.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// With no <see cref="LoggerFactory"/>, whether the warnings a person must see (the server cannot be reached and runs
    /// go on offline, data kept in a local folder and how to send it with <c>mlflow-sync</c>, entries the server
    /// rejected) are written to standard error, one line each, each kind of message once, as Python's logging does when
    /// no handler is configured (default <see langword="true"/>). Ignored when a <see cref="LoggerFactory"/> is given.
    /// </summary>
    public bool WarningsToStandardError { get; set; } = true;

    /// <summary>Where <see cref="WarningsToStandardError"/> writes (tests capture it); <see langword="null"/>: <see cref="Console.Error"/>.</summary>
    internal TextWriter? StandardError { get; set; }

    /// <summary>Wraps the HTTP handler of the client the tracker creates (tests inject faults with it).</summary>
    internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; set; }

    /// <summary>The clock of the sender, the offline layer and the circuit breaker (tests use a fake one).</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Batching, nameof(Batching));
        ArgumentNullException.ThrowIfNull(Client, nameof(Client));
        ArgumentNullException.ThrowIfNull(Offline, nameof(Offline));
        Batching.Validate();
        Offline.Validate();
        if (ExperimentId is not null)
        {
            MlflowValidation.ValidateExperimentId(ExperimentId);
        }

        if (ExperimentName is not null)
        {
            MlflowValidation.ValidateExperimentName(ExperimentName);
        }
    }
}
