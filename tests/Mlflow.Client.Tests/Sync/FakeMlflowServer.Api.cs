using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mlflow.Client.Tests.Sync;

// The MLflow REST endpoints the fake server answers, and how it stores what they send.
internal sealed partial class FakeMlflowServer
{
    private (int, string) Dispatch(string method, string endpoint, string path, System.Collections.Specialized.NameValueCollection query, byte[] body)
    {
        var req = body.Length > 0 && method != "PUT" ? JsonNode.Parse(body)!.AsObject() : new JsonObject();
        switch (method + " " + endpoint)
        {
            case "GET experiments/get-by-name":
                var byName = Experiments.Values.FirstOrDefault(e => e.Name == query["experiment_name"])
                    ?? throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment");
                return Ok(new JsonObject { ["experiment"] = byName.ToJson() });
            case "GET experiments/get":
                return Ok(new JsonObject { ["experiment"] = Experiments[query["experiment_id"]!].ToJson() });
            case "POST experiments/create":
                var name = (string)req["name"]!;
                if (Experiments.Values.Any(e => e.Name == name))
                {
                    throw new FakeError(400, "RESOURCE_ALREADY_EXISTS", "Experiment already exists");
                }

                var id = (_nextExperiment++).ToString(CultureInfo.InvariantCulture);
                Experiments[id] = new FakeExperiment(id, name);
                return Ok(new JsonObject { ["experiment_id"] = id });
            case "POST runs/create":
                var run = new FakeRun
                {
                    RunId = Guid.NewGuid().ToString("N"),
                    ExperimentId = (string)req["experiment_id"]!,
                    RunName = (string?)req["run_name"],
                    UserId = (string?)req["user_id"],
                    StartTime = (long?)req["start_time"],
                };
                if (Experiments[run.ExperimentId].Deleted)
                {
                    throw new FakeError(400, "INVALID_PARAMETER_VALUE", "experiment is deleted");
                }

                run.ArtifactUri = LocalArtifactRoot is { } root ? Path.Combine(root, run.ExperimentId, run.RunId, "artifacts")
                    : ProxiedArtifacts ? $"mlflow-artifacts:/{run.ExperimentId}/{run.RunId}/artifacts" : $"s3://bucket/{run.RunId}/artifacts";
                foreach (var t in req["tags"]?.AsArray() ?? [])
                {
                    run.Tags[(string)t!["key"]!] = (string?)t["value"] ?? "";
                }

                run.RunName ??= "generated-name-1";
                run.Tags["mlflow.runName"] = run.RunName;
                Runs[run.RunId] = run;
                return Ok(new JsonObject { ["run"] = run.ToJson() });
            case "GET runs/get":
                return Ok(new JsonObject { ["run"] = GetRun(query["run_id"]).ToJson() });
            case "POST runs/search":
                var filter = (string?)req["filter"] ?? "";
                var m = FilterRegex().Match(filter);
                var experimentIds = req["experiment_ids"]!.AsArray().Select(x => (string)x!).ToHashSet();
                var hits = Runs.Values.Where(r => experimentIds.Contains(r.ExperimentId)
                    && (!m.Success || (r.Tags.TryGetValue(m.Groups[1].Value, out var v) && v == m.Groups[2].Value))).ToList();
                return Ok(hits.Count == 0 ? new JsonObject() : new JsonObject { ["runs"] = new JsonArray(hits.Select(r => (JsonNode)r.ToJson()).ToArray()) });
            case "POST runs/log-batch":
                LogBatch(GetRun((string?)req["run_id"]), req);
                return Ok(new JsonObject());
            case "POST runs/delete-tag":
                var untagged = GetRun((string?)req["run_id"]);
                var tagKey = (string)req["key"]!;
                if (!untagged.Tags.Remove(tagKey))
                {
                    throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", $"No tag with name: {tagKey} in run with id {untagged.RunId}");
                }

                return Ok(new JsonObject());
            case "GET metrics/get-history":
                var target = GetRun(query["run_id"]);
                var points = target.Metrics.GetValueOrDefault(query["metric_key"]!) ?? [];
                return Ok(points.Count == 0 ? new JsonObject() : new JsonObject
                {
                    // As MLflow 3.11.1's file store: a point logged with a dataset is a five-word line, read back with step 0.
                    ["metrics"] = new JsonArray(points.Select(p => (JsonNode)new JsonObject
                    {
                        ["key"] = query["metric_key"],
                        ["value"] = WireValue(p.Value),
                        ["timestamp"] = p.Timestamp,
                        ["step"] = p.Dataset is not null && !Deduplicating ? 0 : p.Step,
                        ["dataset_name"] = p.Dataset,
                    }).ToArray()),
                });
            case "POST runs/update":
                var updated = GetRun((string?)req["run_id"]);
                updated.Status = (string?)req["status"] ?? updated.Status;
                updated.EndTime = (long?)req["end_time"] ?? updated.EndTime;
                return Ok(new JsonObject { ["run_info"] = updated.ToJson()["info"]!.DeepClone() });
            case "POST runs/log-inputs":
                var withInputs = GetRun((string?)req["run_id"]);
                foreach (var d in req["datasets"]!.AsArray())
                {
                    var key = (string)d!["dataset"]!["name"]! + "/" + (string)d["dataset"]!["digest"]!;
                    if (!withInputs.Inputs.Contains(key))
                    {
                        withInputs.Inputs.Add(key);
                    }
                }

                return Ok(new JsonObject());
            case "POST runs/delete":
                // Deleting a deleted run answers 200 (both backends).
                GetRun((string?)req["run_id"]).Deleted = true;
                return Ok(new JsonObject());
            case "POST experiments/delete":
            case "POST experiments/restore":
                // As the SQL store: only an active experiment can be deleted, only a deleted one restored (else 404).
                var deleting = endpoint == "experiments/delete";
                if (!Experiments.TryGetValue((string)req["experiment_id"]!, out var experiment) || experiment.Deleted != !deleting)
                {
                    throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", "No experiment in the required lifecycle stage");
                }

                experiment.Deleted = deleting;
                return Ok(new JsonObject());
            case "PUT artifacts":
                var rel = Uri.UnescapeDataString(path[ArtifactsApi.Length..]);
                var parts = rel.Split('/', 4);
                Artifacts[parts[1] == "traces" ? TraceDataKey(parts[2]) : parts[1] == "models" ? ModelArtifactPath(parts) : parts[1] + "/" + parts[3]] = body;
                return Ok(new JsonObject());
            default:
                return DispatchMlflow3(method, path, query, req) ?? throw new FakeError(404, "ENDPOINT_NOT_FOUND", method + " " + endpoint);
        }
    }

    /// <summary>Artifact bytes by "server run id/relative path".</summary>
    public Dictionary<string, byte[]> Artifacts { get; } = new(StringComparer.Ordinal);

    private void LogBatch(FakeRun run, JsonObject req)
    {
        if (run.Deleted)
        {
            throw new FakeError(400, "INVALID_PARAMETER_VALUE", "The run must be in the 'active' state.");
        }

        var paramKeys = new HashSet<string>();
        foreach (var p in req["params"]?.AsArray() ?? [])
        {
            var key = (string)p!["key"]!;
            if (!paramKeys.Add(key))
            {
                throw new FakeError(400, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys");
            }

            if (run.Params.TryGetValue(key, out var old) && old != (string?)p["value"])
            {
                throw new FakeError(400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
            }
        }

        foreach (var p in req["params"]?.AsArray() ?? [])
        {
            run.Params[(string)p!["key"]!] = (string?)p["value"] ?? "";
        }

        var linked = ModelMetricsOf(run, req);
        var incoming = (req["metrics"]?.AsArray() ?? []).Select(x => (Key: (string)x!["key"]!, Point: new FakePoint(ParseValue(x["value"]!), (long)x["timestamp"]!, (long?)x["step"] ?? 0) { Dataset = (string?)x["dataset_name"] })).ToList();
        if (Deduplicating)
        {
            // As a SQL store: in-batch duplicates collapse except NaN; any NaN already stored (or twice in the batch) fails the whole metric write.
            var staged = new List<(string Key, FakePoint Point)>();
            foreach (var (key, point) in incoming)
            {
                var existing = run.Metrics.GetValueOrDefault(key) ?? [];
                var clash = existing.Concat(staged.Where(s => s.Key == key).Select(s => s.Point)).Any(e => e.SameAs(point));
                if (clash && double.IsNaN(point.Value))
                {
                    throw new FakeError(400, "BAD_REQUEST", "(sqlite3.IntegrityError) UNIQUE constraint failed: metrics");
                }

                if (!clash)
                {
                    staged.Add((key, point));
                }
            }

            incoming = staged;
        }

        foreach (var (key, point) in incoming)
        {
            if (!run.Metrics.TryGetValue(key, out var list))
            {
                run.Metrics[key] = list = [];
            }

            list.Add(Deduplicating && double.IsInfinity(point.Value) ? point with { Value = point.Value > 0 ? double.MaxValue : double.MinValue } : point);
        }

        StoreModelMetrics(linked);

        foreach (var t in req["tags"]?.AsArray() ?? [])
        {
            run.Tags[(string)t!["key"]!] = (string?)t["value"] ?? "";
        }
    }

    private FakeRun GetRun(string? runId)
        => runId is not null && Runs.TryGetValue(runId, out var run) ? run : throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");

    private static double ParseValue(JsonNode node)
        => node.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? (string)node! switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, var s => double.Parse(s, CultureInfo.InvariantCulture) }
            : (double)node;

    private static JsonNode WireValue(double v)
        => double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity" : JsonValue.Create(v);

    private static (int, string) Ok(JsonObject o) => (200, o.ToJsonString());

    [GeneratedRegex(@"^tags\.`([^`]+)`\s*=\s*'([^']*)'$")]
    private static partial Regex FilterRegex();
}
