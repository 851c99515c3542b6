using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Types;
using WireMock.Util;

namespace Mlflow.Client.Tests.Tracing.Capture;

/// <summary>
/// A stand-in for an MLflow 3 server without OTLP: <c>POST /api/3.0/mlflow/traces</c> answers the trace info back with
/// the artifact location a 3.11.1 server gives (<c>mlflow-artifacts:/{experiment}/traces/{id}/artifacts</c>), and the
/// proxied artifact upload takes <c>traces.json</c>. What the client sent is read back per trace.
/// </summary>
internal sealed class TraceServer : IDisposable
{
    private TraceServer(FixtureServer server) => Fixture = server;

    public FixtureServer Fixture { get; }

    /// <param name="startStatus">The status the trace start answers.</param>
    /// <param name="startDelay">How long the trace start takes (a slow server).</param>
    public static TraceServer Start(int startStatus = 200, TimeSpan? startDelay = null)
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/3.0/mlflow/traces").UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                if (startDelay is { } delay)
                {
                    Thread.Sleep(delay);
                }

                if (startStatus != 200)
                {
                    return new ResponseMessage
                    {
                        StatusCode = startStatus,
                        BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = """{"error_code":"INTERNAL_ERROR","message":"down"}""" },
                    };
                }

                var body = JsonNode.Parse(request.Body!)!;
                var info = body["trace"]!["trace_info"]!;
                var experiment = info["trace_location"]!["mlflow_experiment"]!["experiment_id"]!.GetValue<string>();
                var tags = info["tags"] as JsonObject ?? [];
                tags["mlflow.artifactLocation"] = $"mlflow-artifacts:/{experiment}/traces/{info["trace_id"]!.GetValue<string>()}/artifacts";
                info["tags"] = tags.DeepClone();
                return new ResponseMessage
                {
                    StatusCode = 200,
                    Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
                    BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = body.ToJsonString() },
                };
            }));
        server.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/api/2.0/mlflow-artifacts/artifacts/*")).UsingPut())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        return new TraceServer(server);
    }

    public MlflowClient CreateClient() => Fixture.CreateClient();

    /// <summary>The trace infos sent, by trace id.</summary>
    public Dictionary<string, JsonNode> TraceInfos => Fixture.Requests
        .Where(r => r.RequestMessage.Method == "POST" && r.RequestMessage.AbsolutePath == "/api/3.0/mlflow/traces")
        .Select(r => FixtureServer.BodyJson(r)!["trace"]!["trace_info"]!)
        .ToDictionary(i => i["trace_id"]!.GetValue<string>(), i => i);

    /// <summary>The <c>traces.json</c> uploaded for a trace, parsed.</summary>
    public JsonArray Spans(string traceId)
    {
        var upload = Fixture.Requests.Single(r => r.RequestMessage.Method == "PUT" && r.RequestMessage.AbsolutePath.EndsWith($"/traces/{traceId}/artifacts/traces.json", StringComparison.Ordinal));
        return (JsonArray)JsonNode.Parse(Encoding.UTF8.GetString(upload.RequestMessage.BodyAsBytes!))!["spans"]!;
    }

    /// <summary>A span attribute as MLflow reads it (the JSON text decoded).</summary>
    public static JsonNode? Attribute(JsonNode span, string key)
        => span["attributes"]![key] is { } text ? JsonNode.Parse(text.GetValue<string>()) : null;

    public void Dispose() => Fixture.Dispose();
}
