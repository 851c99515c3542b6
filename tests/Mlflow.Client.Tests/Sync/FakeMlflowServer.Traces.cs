using System.Text.Json.Nodes;

namespace Mlflow.Client.Tests.Sync;

// MLflow 3's trace and assessment endpoints and the server facts (/version, server-info), for syncs of local traces.
// Only with a Version set: without one the fake answers 404 there, as an MLflow 2 server without /version does.
internal sealed partial class FakeMlflowServer
{
    private const string TracesApi = "/api/3.0/mlflow/traces";

    /// <summary>What <c>GET /version</c> answers (<c>3.11.1</c>, <c>2.12.2</c>); <see langword="null"/>: 404, and no MLflow 3 endpoints.</summary>
    public string? Version { get; set; }

    /// <summary>Trace infos by trace id, as stored (with the tags the server added).</summary>
    public Dictionary<string, JsonObject> Traces { get; } = new(StringComparer.Ordinal);

    /// <summary>Assessments by trace id, in creation order.</summary>
    public Dictionary<string, List<JsonObject>> Assessments { get; } = new(StringComparer.Ordinal);

    /// <summary>The uploaded <c>traces.json</c> of a trace (in <see cref="Artifacts"/>).</summary>
    public static string TraceDataKey(string traceId) => "trace:" + traceId;

    private bool IsMlflow3 => Version is { } v && v.StartsWith('3');

    private (int, string)? DispatchMlflow3(string method, string path, System.Collections.Specialized.NameValueCollection query, JsonObject req)
    {
        if (method == "GET" && path == "/version" && Version is { } version)
        {
            return (200, version);
        }

        if (!IsMlflow3)
        {
            return null;
        }

        if (DispatchLoggedModels(method, path, req) is { } loggedModels)
        {
            return loggedModels;
        }

        if (method == "GET" && path == "/api/3.0/mlflow/server-info")
        {
            return Ok(new JsonObject { ["store_type"] = Deduplicating ? "SqlStore" : "FileStore" });
        }

        if (method == "POST" && path == TracesApi)
        {
            var info = req["trace"]!["trace_info"]!.AsObject().DeepClone().AsObject();
            var traceId = (string)info["trace_id"]!;
            var experimentId = (string)info["trace_location"]!["mlflow_experiment"]!["experiment_id"]!;
            if (Traces.ContainsKey(traceId) && !Deduplicating)
            {
                // As MLflow's file store: write_yaml(overwrite=False) raises, and the server answers 500.
                throw new FakeError(500, "INTERNAL_ERROR", $"Yaml file '{traceId}/trace_info.yaml' exists");
            }

            var tags = info["tags"] as JsonObject ?? [];
            tags["mlflow.artifactLocation"] = $"mlflow-artifacts:/{experimentId}/traces/{traceId}/artifacts";
            info["tags"] = tags;
            Traces[traceId] = info; // a SQL store merges a second start into the first
            return Ok(new JsonObject { ["trace"] = new JsonObject { ["trace_info"] = info.DeepClone() } });
        }

        if (!path.StartsWith(TracesApi + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = path[(TracesApi.Length + 1)..].Split('/');
        var id = Uri.UnescapeDataString(rest[0]);
        if (!Traces.TryGetValue(id, out var stored))
        {
            throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", $"Trace with ID {id} is not found.");
        }

        if (method == "GET" && rest.Length == 1)
        {
            var withAssessments = stored.DeepClone().AsObject();
            withAssessments["assessments"] = new JsonArray(Assessments.GetValueOrDefault(id, []).Select(a => (JsonNode)a.DeepClone()).ToArray());
            return Ok(new JsonObject { ["trace"] = new JsonObject { ["trace_info"] = withAssessments } });
        }

        if (method == "POST" && rest is [_, "assessments"])
        {
            var assessment = req["assessment"]!.AsObject().DeepClone().AsObject();
            assessment["assessment_id"] = "a-" + Guid.NewGuid().ToString("N");
            assessment["valid"] = true;
            if (!Assessments.TryGetValue(id, out var list))
            {
                Assessments[id] = list = [];
            }

            if ((string?)assessment["overrides"] is { } overridden && list.FirstOrDefault(a => (string?)a["assessment_id"] == overridden) is { } original)
            {
                original["valid"] = false;
            }

            list.Add(assessment);
            return Ok(new JsonObject { ["assessment"] = assessment.DeepClone() });
        }

        return null;
    }
}
