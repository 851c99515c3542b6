using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mlflow.Client.Tests.Sync;

// MLflow 3's logged models on the fake (only with a Version of 3): logged-models create, get, finalize and search (a
// filter of tag and source_run_id clauses joined by AND), runs/outputs (an output twice is refused, as 3.11.1's sqlite
// store does), and log-batch points with model_id stored on the model as well: appended on a file-like server,
// kept once per (model, key, timestamp, step, run) on a SQL-like one, which also refuses a batch holding two copies of
// a point with different model links (3.11.1's metrics table rejects the second row and the whole batch fails).
internal sealed partial class FakeMlflowServer
{
    /// <summary>Logged models by id, in creation order.</summary>
    public Dictionary<string, FakeLoggedModel> LoggedModels { get; } = new(StringComparer.Ordinal);

    /// <summary>The logged model made from a local one (tag <c>mlflow.dotnet.sourceModelId</c>).</summary>
    public FakeLoggedModel ModelBySource(string localModelId)
    {
        lock (Runs)
        {
            return LoggedModels.Values.Single(m => m.Tags.TryGetValue("mlflow.dotnet.sourceModelId", out var v) && v == localModelId);
        }
    }

    /// <summary>The artifact key of a logged model's file in <see cref="Artifacts"/>.</summary>
    public static string ModelArtifactKey(string modelId, string path) => "models/" + modelId + "/" + path;

    private (int, string)? DispatchLoggedModels(string method, string path, JsonObject req)
    {
        const string LoggedModelsApi = Api + "logged-models";
        if (method == "POST" && path == Api + "runs/outputs")
        {
            var run = GetRun((string?)req["run_id"]);
            foreach (var m in req["models"]!.AsArray())
            {
                var modelId = (string)m!["model_id"]!;
                if (run.Outputs.Any(o => o.ModelId == modelId))
                {
                    throw new FakeError(400, "INVALID_PARAMETER_VALUE", "(sqlite3.IntegrityError) UNIQUE constraint failed: inputs");
                }

                run.Outputs.Add((modelId, (long?)m["step"] ?? 0));
            }

            return Ok(new JsonObject());
        }

        if (method == "POST" && path == LoggedModelsApi)
        {
            var experimentId = (string)req["experiment_id"]!;
            var id = "m-" + Guid.NewGuid().ToString("N");
            var model = new FakeLoggedModel
            {
                ModelId = id,
                ExperimentId = experimentId,
                Name = (string?)req["name"] ?? "generated-model",
                ModelType = (string?)req["model_type"],
                SourceRunId = (string?)req["source_run_id"],
                ArtifactUri = $"mlflow-artifacts:/{experimentId}/models/{id}/artifacts",
                Created = LoggedModels.Count,
            };
            foreach (var p in req["params"]?.AsArray() ?? [])
            {
                model.Params[(string)p!["key"]!] = (string?)p["value"] ?? "";
            }

            foreach (var t in req["tags"]?.AsArray() ?? [])
            {
                model.Tags[(string)t!["key"]!] = (string?)t["value"] ?? "";
            }

            LoggedModels[id] = model;
            return Ok(new JsonObject { ["model"] = model.ToJson() });
        }

        if (method == "POST" && path == LoggedModelsApi + "/search")
        {
            var clauses = ((string?)req["filter"] ?? "").Split(" AND ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var experiments = req["experiment_ids"]!.AsArray().Select(x => (string)x!).ToHashSet();
            var hits = LoggedModels.Values.Where(m => experiments.Contains(m.ExperimentId) && clauses.All(c => Matches(m, c))).OrderBy(m => m.Created).ToList();
            return Ok(hits.Count == 0 ? new JsonObject() : new JsonObject { ["models"] = new JsonArray(hits.Select(m => (JsonNode)m.ToJson()).ToArray()) });
        }

        if (!path.StartsWith(LoggedModelsApi + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var modelPath = path[(LoggedModelsApi.Length + 1)..];
        if (!LoggedModels.TryGetValue(modelPath, out var held))
        {
            throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", $"Logged model with ID '{modelPath}' not found.");
        }

        if (method == "GET")
        {
            return Ok(new JsonObject { ["model"] = held.ToJson() });
        }

        if (method == "PATCH")
        {
            held.Status = (string)req["status"]!;
            return Ok(new JsonObject { ["model"] = held.ToJson() });
        }

        return null;
    }

    private static bool Matches(FakeLoggedModel model, string clause)
    {
        var m = ClauseRegex().Match(clause);
        if (!m.Success)
        {
            throw new FakeError(400, "INVALID_PARAMETER_VALUE", "The fake does not parse: " + clause);
        }

        return m.Groups["tag"].Success
            ? model.Tags.TryGetValue(m.Groups["tag"].Value, out var v) && v == m.Groups["value"].Value
            : m.Groups["attr"].Value == "source_run_id" ? model.SourceRunId == m.Groups["value"].Value
            : throw new FakeError(400, "INVALID_PARAMETER_VALUE", "The fake does not filter on " + m.Groups["attr"].Value);
    }

    /// <summary>The log-batch points with model_id: checked (SQL-like: no twins with different links), then stored on their models.</summary>
    private List<FakeModelMetric> ModelMetricsOf(FakeRun run, JsonObject req)
    {
        var all = (req["metrics"]?.AsArray() ?? []).Select(x => new FakeModelMetric(
            (string)x!["key"]!,
            new FakePoint(ParseValue(x["value"]!), (long)x["timestamp"]!, (long?)x["step"] ?? 0),
            run.RunId,
            (string?)x["model_id"],
            (string?)x["dataset_name"],
            (string?)x["dataset_digest"])).ToList();
        if (Deduplicating)
        {
            for (var i = 0; i < all.Count; i++)
            {
                for (var j = i + 1; j < all.Count; j++)
                {
                    if (all[i].Key == all[j].Key && all[i].Point.SameAs(all[j].Point) && !all[i].SameLink(all[j]))
                    {
                        throw new FakeError(500, "INTERNAL_ERROR", "(sqlite3.IntegrityError) UNIQUE constraint failed: metrics.key, metrics.timestamp, metrics.step, metrics.run_uuid, metrics.value, metrics.is_nan");
                    }
                }
            }
        }

        var linked = all.Where(m => m.ModelId is not null).ToList();
        foreach (var m in linked)
        {
            if (!IsMlflow3 || !LoggedModels.ContainsKey(m.ModelId!))
            {
                throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", $"Logged model with ID '{m.ModelId}' not found.");
            }
        }

        return linked;
    }

    private void StoreModelMetrics(List<FakeModelMetric> linked)
    {
        foreach (var m in linked)
        {
            var model = LoggedModels[m.ModelId!];
            if (Deduplicating && model.Metrics.Any(h => h.Key == m.Key && h.Point.Timestamp == m.Point.Timestamp && h.Point.Step == m.Point.Step && h.RunId == m.RunId))
            {
                continue; // the model metric's primary key: (model, key, timestamp, step, run)
            }

            model.Metrics.Add(m);
        }
    }

    private static string ModelArtifactPath(string[] parts)
        => parts[3].StartsWith("artifacts/", StringComparison.Ordinal) ? ModelArtifactKey(parts[2], parts[3]["artifacts/".Length..]) : throw new FakeError(400, "INVALID_PARAMETER_VALUE", "not a model artifact path");

    [GeneratedRegex(@"^(?:tags\.`(?<tag>[^`]+)`|(?<attr>[a-z_]+))\s*=\s*'(?<value>[^']*)'$")]
    private static partial Regex ClauseRegex();
}

/// <summary>A point logged with a model id, as the fake holds it on the model.</summary>
internal sealed record FakeModelMetric(string Key, FakePoint Point, string RunId, string? ModelId, string? DatasetName, string? DatasetDigest)
{
    public bool SameLink(FakeModelMetric o) => ModelId == o.ModelId && DatasetName == o.DatasetName && DatasetDigest == o.DatasetDigest;
}

internal sealed class FakeLoggedModel
{
    public required string ModelId { get; init; }
    public required string ExperimentId { get; init; }
    public required string Name { get; init; }
    public string? ModelType { get; init; }
    public string? SourceRunId { get; init; }
    public required string ArtifactUri { get; init; }
    public int Created { get; init; }
    public string Status { get; set; } = "LOGGED_MODEL_PENDING";
    public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    public List<FakeModelMetric> Metrics { get; } = [];

    public JsonObject ToJson() => new()
    {
        ["info"] = new JsonObject
        {
            ["model_id"] = ModelId,
            ["experiment_id"] = ExperimentId,
            ["name"] = Name,
            ["model_type"] = ModelType ?? "",
            ["source_run_id"] = SourceRunId ?? "",
            ["artifact_uri"] = ArtifactUri,
            ["status"] = Status,
            ["creation_timestamp_ms"] = 1_765_000_000_000L + Created,
            ["tags"] = new JsonArray(Tags.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray()),
        },
        ["data"] = new JsonObject
        {
            ["params"] = new JsonArray(Params.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray()),
            ["metrics"] = new JsonArray(Metrics.Select(m => (JsonNode)new JsonObject
            {
                ["key"] = m.Key,
                ["value"] = double.IsNaN(m.Point.Value) ? "NaN" : JsonValue.Create(m.Point.Value),
                ["timestamp"] = m.Point.Timestamp,
                ["step"] = m.Point.Step,
                ["run_id"] = m.RunId,
                ["model_id"] = ModelId,
                ["dataset_name"] = m.DatasetName,
                ["dataset_digest"] = m.DatasetDigest,
            }).ToArray()),
        },
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{ModelId} {Name} {Status}");
}
