using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Mlflow.Client.Tracing;

namespace Mlflow.Client;

// Spans over OTLP (POST /v1/traces, protobuf, header x-mlflow-experiment-id), where the server takes them: MLflow 3.4+
// served as MLflow serves by default (uvicorn + FastAPI) on a SQL store. Decided once per client, as MLflow's own REST
// store decides from the server version and its exporter stops trying after a 501.
public partial class MlflowClient
{
    private const int OtlpUnknown = 0, OtlpServed = 1, OtlpNotServed = 2;

    private readonly SemaphoreSlim _otlpGate = new(1, 1);
    private int _otlpState;

    /// <summary>
    /// Whether the server takes spans on <c>POST /v1/traces</c>, learned once per client and kept: MLflow 3.4 or newer
    /// (<c>GET /version</c>; MLflow's REST store refuses below that or when the version is unknown), a store other than
    /// <c>FileStore</c> (3.11.1's file store answers 501), and a probe with an empty body, which MLflow's endpoint refuses
    /// with 400 before it stores anything, where a server without the endpoint (MLflow's Flask app under gunicorn, a
    /// proxy) answers 404 or 405. An answer that decides nothing (no connection, 5xx, 401/403) is not kept: this call
    /// goes the artifact way and the next one asks again.
    /// </summary>
    internal async Task<bool> ServesOtlpAsync(string experimentId, string traceId, CancellationToken cancellationToken)
    {
        if (IsLocal)
        {
            return false;
        }

        var state = Volatile.Read(ref _otlpState);
        if (state != OtlpUnknown)
        {
            return state == OtlpServed;
        }

        await _otlpGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_otlpState != OtlpUnknown)
            {
                return _otlpState == OtlpServed;
            }

            var decided = await DetectOtlpAsync(experimentId, traceId, cancellationToken).ConfigureAwait(false);
            if (decided is { } served)
            {
                Volatile.Write(ref _otlpState, served ? OtlpServed : OtlpNotServed);
            }

            return decided == true;
        }
        finally
        {
            _otlpGate.Release();
        }
    }

    /// <summary>Sends the spans of one trace to <c>POST /v1/traces</c>; returns whether the server took them. Never throws but for cancellation.</summary>
    /// <remarks>
    /// Sent once (the server adds token usage up, so a resend is not harmless). A 404, 405 or 501 (MLflow's
    /// <c>REST OTLP span logging is not supported by FileStore</c>) means the server does not take spans this way: kept,
    /// as MLflow's exporter keeps it. Any other failure is logged; the caller then goes on as MLflow's exporter does: it
    /// records the trace info and uploads <c>traces.json</c> unless the server says it holds the spans.
    /// </remarks>
    internal async Task<bool> SendSpansOverOtlpAsync(string experimentId, string traceId, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await PostOtlpAsync(experimentId, body, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (MlflowException ex) when (IsAbsentEndpoint(ex))
        {
            Volatile.Write(ref _otlpState, OtlpNotServed);
            TraceLog.OtlpNotServed(_logger, ex.Message);
            return false;
        }
        catch (MlflowException ex)
        {
            TraceLog.OtlpSendFailed(_logger, traceId, ex.Message);
            return false;
        }
    }

    private async Task<bool?> DetectOtlpAsync(string experimentId, string traceId, CancellationToken cancellationToken)
    {
        // A server that is not there fails these reads at once; the trace info's own request then takes the retries.
        using var scope = Resilience.RequestScope.Enter(Resilience.RequestFlags.NoRetryWhenRefused);
        MlflowServerInfo info;
        try
        {
            info = await GetServerInfoAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex)
        {
            TraceLog.OtlpUndecided(_logger, traceId, ex.Message);
            return null;
        }

        if (!IsAtLeast(info.Version, 3, 4))
        {
            TraceLog.OtlpNotServed(_logger, info.Version is null ? "its MLflow version is unknown" : "MLflow " + info.Version + " is older than 3.4");
            return false;
        }

        if (info.IsFileStore)
        {
            TraceLog.OtlpNotServed(_logger, "its store is a FileStore");
            return false;
        }

        try
        {
            using var response = await PostOtlpAsync(experimentId, [], cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.StatusCode == HttpStatusCode.BadRequest)
        {
            // MLflow's endpoint: "Invalid OpenTelemetry protobuf format - no spans found"; nothing stored.
        }
        catch (MlflowException ex) when (IsAbsentEndpoint(ex))
        {
            TraceLog.OtlpNotServed(_logger, ex.Message);
            return false;
        }
        catch (MlflowException ex)
        {
            TraceLog.OtlpUndecided(_logger, traceId, ex.Message);
            return null;
        }

        TraceLog.OtlpServed(_logger, info.Version!);
        return true;
    }

    private Task<HttpResponseMessage> PostOtlpAsync(string experimentId, byte[] body, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(OtlpTraceWriter.ContentType);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(TrackingBase.AbsoluteUri.TrimEnd('/') + "/" + OtlpTraceWriter.TracesPath)) { Content = content };
        request.Headers.TryAddWithoutValidation(OtlpTraceWriter.ExperimentIdHeader, experimentId);
        return SendAndDisposeRequestAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAndDisposeRequestAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether an MLflow version (<c>3.11.1</c>, <c>3.4.0rc1</c>) is at least <paramref name="major"/>.<paramref name="minor"/>; <see langword="false"/> when it is not a version.</summary>
    internal static bool IsAtLeast(string? version, int major, int minor)
    {
        if (MajorOf(version) is not { } m)
        {
            return false;
        }

        if (m != major)
        {
            return m > major;
        }

        var rest = version!.Trim().AsSpan(version.Trim().IndexOf('.', StringComparison.Ordinal) + 1);
        var digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
        {
            digits++;
        }

        return digits > 0 && int.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= minor;
    }
}
