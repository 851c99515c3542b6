using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Artifacts;
using Mlflow.Client.Tracing;

namespace Mlflow.Client;

// A trace's span data: the traces.json file MLflow's exporter uploads to the artifact location the server names in the
// trace's tags (mlflow.artifactLocation) when the server has no OTLP endpoint, and that mlflow.get_trace reads back.
public partial class MlflowClient
{
    /// <summary>The clock that times assessments created without a time.</summary>
    internal TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// Logs a finished trace as MLflow 3.11.1's own exporter does: where the server takes spans over OTLP (MLflow 3.4+
    /// served with its default FastAPI app, on a SQL store) the spans go first to <c>POST /v1/traces</c>; then the info
    /// is recorded (<see cref="StartTraceAsync"/>); unless the server answers that it holds the spans (tag
    /// <c>mlflow.trace.spansLocation</c> = <c>TRACKING_STORE</c>), they are uploaded as <c>traces.json</c> to the
    /// artifact location it answered. What the info leaves unset is taken from the root span as MLflow does (time,
    /// duration, state, request and response previews, the <c>mlflow.traceName</c> tag).
    /// </summary>
    /// <remarks>
    /// Whether the server takes OTLP is learned once per client (its version, store type, and one probe that stores
    /// nothing). A failed OTLP send does not fail the trace: it is logged, and the spans then go as <c>traces.json</c>.
    /// </remarks>
    /// <param name="info">The trace: at least its id (<see cref="TraceIds.NewTraceId"/>) and experiment.</param>
    /// <param name="spans">The spans; their <see cref="TraceSpan.TraceId"/> is the trace's or empty.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The trace info as the server stored it.</returns>
    /// <exception cref="ArgumentException">A span of another trace, or an id MLflow cannot store (checked before anything is sent).</exception>
    /// <exception cref="MlflowException">The server refused, or the upload failed (the trace info is then logged without its spans).</exception>
    public virtual async Task<TraceInfo> LogTraceAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken = default)
    {
        var (completed, owned) = TraceCompletion.Complete(info, spans);
        var data = TraceDataJson.Serialize(completed.TraceId, owned);
        CheckTraceInfo(completed); // before the spans go anywhere: a refused info would leave them without it
        if (owned.Count > 0 && await ServesOtlpAsync(completed.ExperimentId, completed.TraceId, cancellationToken).ConfigureAwait(false))
        {
            byte[]? otlp = null;
            try
            {
                otlp = OtlpTraceWriter.Serialize(completed.TraceId, owned);
            }
            catch (EncoderFallbackException)
            {
                TraceLog.OtlpUnencodable(_logger, completed.TraceId);
            }

            if (otlp is not null)
            {
                await SendSpansOverOtlpAsync(completed.ExperimentId, completed.TraceId, otlp, cancellationToken).ConfigureAwait(false);
            }
        }

        var logged = await StartTraceAsync(completed, cancellationToken).ConfigureAwait(false);
        if (!logged.Tags.TryGetValue(TraceKeys.SpansLocationTag, out var spansLocation) || spansLocation != TraceKeys.SpansInTrackingStore)
        {
            await UploadTraceDataAsync(logged, data, cancellationToken).ConfigureAwait(false);
        }

        return logged;
    }

    /// <summary>
    /// Reads a trace with its spans, as <c>mlflow.get_trace</c> does: the info from the server, the spans from where the
    /// info says they are: the server's database when they came over OTLP (tag <c>mlflow.trace.spansLocation</c> =
    /// <c>TRACKING_STORE</c>; <c>GET /api/3.0/mlflow/traces/get</c>), else the <c>traces.json</c> at its artifact location.
    /// </summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The trace.</returns>
    /// <exception cref="MlflowException">No such trace, or its span data is missing or not MLflow's.</exception>
    /// <exception cref="NotSupportedException">The spans are in the server's database and the server cannot hand them out, or the artifact location is not reachable.</exception>
    public virtual async Task<MlflowTrace> GetTraceAsync(string traceId, CancellationToken cancellationToken = default)
    {
        var info = await GetTraceInfoAsync(traceId, cancellationToken).ConfigureAwait(false);
        if (info.Tags.TryGetValue(TraceKeys.SpansLocationTag, out var spansLocation) && spansLocation == TraceKeys.SpansInTrackingStore)
        {
            return new MlflowTrace(info, await GetStoredSpansAsync(traceId, cancellationToken).ConfigureAwait(false));
        }

        return new MlflowTrace(info, await DownloadTraceDataAsync(info, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The spans a SQL store keeps for a trace (<c>GET /api/3.0/mlflow/traces/get</c>), as MLflow's own client reads them.</summary>
    private async Task<IReadOnlyList<TraceSpan>> GetStoredSpansAsync(string traceId, CancellationToken cancellationToken)
    {
        JsonNode? answer;
        try
        {
            answer = await TraceCallAsync(
                async () =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(TrackingBase.AbsoluteUri.TrimEnd('/') + "/api/3.0/mlflow/traces/get?trace_id=" + Uri.EscapeDataString(traceId)));
                    using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                    return JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist && ex.Message.Contains("'get'", StringComparison.Ordinal))
        {
            // A server older than the endpoint routes "get" as a trace id, as MLflow's own client notes.
            throw new NotSupportedException($"The spans of trace '{traceId}' are kept in the tracking server's database, and this server does not hand them out (GET /api/3.0/mlflow/traces/get).", ex);
        }
        catch (JsonException ex)
        {
            throw new MlflowException($"The spans of trace '{traceId}' the server answered are not JSON: {ex.Message}", ex);
        }

        return TraceProtoSpans.Parse(answer, traceId);
    }

    /// <summary>Uploads <c>traces.json</c> to the trace's artifact location (a proxy <c>mlflow-artifacts:</c> URI or a local folder).</summary>
    internal async Task UploadTraceDataAsync(TraceInfo logged, string traceDataJson, CancellationToken cancellationToken)
    {
        var repository = TraceArtifacts(logged);
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(traceDataJson), writable: false);
        await repository.WriteAsync(TraceKeys.TraceDataFileName, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads and parses the trace's <c>traces.json</c>.</summary>
    internal async Task<IReadOnlyList<TraceSpan>> DownloadTraceDataAsync(TraceInfo info, CancellationToken cancellationToken)
    {
        var repository = TraceArtifacts(info);
        string text;
        try
        {
            var stream = await repository.OpenReadAsync(TraceKeys.TraceDataFileName, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var reader = new StreamReader(stream, Encoding.UTF8);
                text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is MlflowException { ErrorCode: MlflowErrorCode.ResourceDoesNotExist } or FileNotFoundException or DirectoryNotFoundException
            || (ex is MlflowException m && m.StatusCode == System.Net.HttpStatusCode.NotFound))
        {
            throw new MlflowException($"Trace '{info.TraceId}' has no span data (traces.json) at {info.ArtifactLocation}.", ex);
        }

        return TraceDataJson.Parse(text);
    }

    private IArtifactRepository TraceArtifacts(TraceInfo info)
        => ArtifactRepositories.ForRoot(this, info.ArtifactLocation
            ?? throw new MlflowException($"The server gave trace '{info.TraceId}' no artifact location (tag {TraceKeys.ArtifactLocationTag}), so its span data has nowhere to go."));
}
