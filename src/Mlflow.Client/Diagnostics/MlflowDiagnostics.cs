namespace Mlflow.Client;

/// <summary>
/// The names under which the SDK reports traces and metrics, for OpenTelemetry's
/// <c>.AddSource(MlflowDiagnostics.ActivitySourceName)</c> and <c>.AddMeter(MlflowDiagnostics.MeterName)</c>.
/// </summary>
/// <remarks>
/// Spans: <c>mlflow.http</c> per HTTP request (attributes <c>http.request.method</c>, <c>url.template</c>,
/// <c>http.response.status_code</c>, <c>mlflow.attempts</c>, <c>mlflow.failure_kind</c>), <c>mlflow.batch.send</c> per
/// batch the tracker sends and <c>mlflow.offline.drain</c> per drain of a local copy (<c>mlflow.run_id</c>,
/// <c>mlflow.entries</c>). No span carries a query string, header, token or password.
/// Instruments: the counters <c>mlflow.client.entries.queued</c>, <c>.sent</c>, <c>.rejected</c>, <c>.spilled</c> and
/// <c>mlflow.client.requests.retried</c>; the up-down counter <c>mlflow.client.entries.offline</c>; the gauge
/// <c>mlflow.client.queue.depth</c>; the histograms <c>mlflow.client.batch.size</c> (entries),
/// <c>mlflow.client.batch.duration</c> and <c>mlflow.client.request.duration</c> (ms).
/// Log event ids (every <see cref="Microsoft.Extensions.Logging.ILogger"/> message of the SDK has one):
/// 1-99 HTTP resilience, 100-199 the client, 1001-1099 the tracker and its sender, 1101-1199 the offline layer,
/// 4101-4199 the local file store, 4201-4299 sync, 5001-5099 the hosting package.
/// </remarks>
public static class MlflowDiagnostics
{
    /// <summary>The name of the SDK's <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string ActivitySourceName = "Mlflow.Client";

    /// <summary>The name of the SDK's <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = "Mlflow.Client";
}
