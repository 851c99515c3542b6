using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using WireMock;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Types;
using WireMock.Util;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// A stand-in for an MLflow 3 server with the OTLP endpoint as 3.11.1's FastAPI app answers it: <c>/version</c> and
/// server-info as recorded (3.11.1, SqlStore, unless told otherwise); <c>POST /v1/traces</c> answers an empty body
/// with 400 (<c>no spans found</c>) and spans with 200 and an empty protobuf answer (or the statuses given); the
/// trace info is answered back with its artifact location and, when the spans of that trace were taken over OTLP, the
/// tag <c>mlflow.trace.spansLocation = TRACKING_STORE</c> that MLflow's store sets; artifact uploads answer 200.
/// </summary>
internal sealed class OtlpFakeServer : IDisposable
{
    public const string TracesPath = "/v1/traces";
    private readonly HashSet<string> _kept = [];

    private OtlpFakeServer(FixtureServer server) => Fixture = server;

    public FixtureServer Fixture { get; }

    /// <summary>Starts the server. <paramref name="version"/> <see langword="null"/> leaves <c>/version</c> unanswered (404).</summary>
    public static OtlpFakeServer Start(string? version = "3.11.1", string storeType = "SqlStore", int probeStatus = 400, int sendStatus = 200)
    {
        var server = new OtlpFakeServer(FixtureServer.Start());
        var wire = server.Fixture.Server;
        if (version is not null)
        {
            wire.Given(Request.Create().WithPath("/version").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/html").WithBody(version));
        }

        wire.Given(Request.Create().WithPath("/api/3.0/mlflow/server-info").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody($$"""{"store_type": "{{storeType}}", "workspaces_enabled": false}"""));
        wire.Given(Request.Create().WithPath(TracesPath).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = request.BodyAsBytes ?? [];
            var status = body.Length == 0 ? probeStatus : sendStatus;
            if (status == 200)
            {
                foreach (var span in OtlpTestDecoder.Decode(body).Spans)
                {
                    lock (server._kept)
                    {
                        server._kept.Add("tr-" + span.TraceId);
                    }
                }

                return new ResponseMessage
                {
                    StatusCode = 200,
                    Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/x-protobuf") },
                    BodyData = new BodyData { DetectedBodyType = BodyType.Bytes, BodyAsBytes = [] },
                };
            }

            var detail = status switch
            {
                400 => "Invalid OpenTelemetry protobuf format - no spans found",
                501 => "REST OTLP span logging is not supported by FileStore",
                404 => "Not Found",
                _ => "Failed to log OpenTelemetry spans: boom",
            };
            return new ResponseMessage
            {
                StatusCode = status,
                Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
                BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = new JsonObject { ["detail"] = detail }.ToJsonString() },
            };
        }));
        wire.Given(Request.Create().WithPath("/api/3.0/mlflow/traces").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = JsonNode.Parse(request.Body!)!;
            var info = body["trace"]!["trace_info"]!;
            var id = info["trace_id"]!.GetValue<string>();
            var experiment = info["trace_location"]!["mlflow_experiment"]!["experiment_id"]!.GetValue<string>();
            var tags = info["tags"] as JsonObject ?? [];
            tags["mlflow.artifactLocation"] = $"mlflow-artifacts:/{experiment}/traces/{id}/artifacts";
            lock (server._kept)
            {
                if (server._kept.Contains(id))
                {
                    tags["mlflow.trace.spansLocation"] = "TRACKING_STORE";
                }
            }

            info["tags"] = tags.DeepClone();
            return new ResponseMessage
            {
                StatusCode = 200,
                Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
                BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = body.ToJsonString() },
            };
        }));
        wire.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/api/2.0/mlflow-artifacts/artifacts/*")).UsingPut())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        return server;
    }

    public MlflowClient CreateClient() => Fixture.CreateClient();

    /// <summary>Every request, in order, as <c>METHOD path</c>; a <c>/v1/traces</c> post with an empty body shows as <c>probe</c>.</summary>
    public List<string> Calls => Fixture.Requests.Select(r => r.RequestMessage.AbsolutePath == TracesPath && (r.RequestMessage.BodyAsBytes?.Length ?? 0) == 0
        ? "probe"
        : r.RequestMessage.Method + " " + Shorten(r.RequestMessage.AbsolutePath)).ToList();

    /// <summary>The OTLP posts that carried spans.</summary>
    public List<ILogEntry> SpanPosts => Fixture.Requests.Where(r => r.RequestMessage.AbsolutePath == TracesPath && (r.RequestMessage.BodyAsBytes?.Length ?? 0) > 0).ToList();

    private static string Shorten(string path) => path.StartsWith("/api/2.0/mlflow-artifacts/artifacts/", StringComparison.Ordinal) ? "artifact " + path[(path.LastIndexOf('/') + 1)..] : path;

    public void Dispose() => Fixture.Dispose();
}
