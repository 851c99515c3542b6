using System.Text.Json.Nodes;

namespace Mlflow.Client.Tests.Sync;

internal sealed record FakePoint(double Value, long Timestamp, long Step)
{
    /// <summary>The dataset name the point was logged with (MLflow 3), if any.</summary>
    public string? Dataset { get; init; }

    public bool SameAs(FakePoint o) => Timestamp == o.Timestamp && Step == o.Step && (Value.Equals(o.Value) || (double.IsNaN(Value) && double.IsNaN(o.Value)));
}

internal sealed class FakeExperiment(string id, string name)
{
    public string Id { get; } = id;
    public string Name { get; } = name;
    public bool Deleted { get; set; }

    public JsonObject ToJson() => new()
    {
        ["experiment_id"] = Id,
        ["name"] = Name,
        ["lifecycle_stage"] = Deleted ? "deleted" : "active",
        ["artifact_location"] = "mlflow-artifacts:/" + Id,
    };
}

internal sealed class FakeRun
{
    public required string RunId { get; init; }
    public required string ExperimentId { get; init; }
    public string? RunName { get; set; }
    public string? UserId { get; init; }
    public long? StartTime { get; init; }
    public long? EndTime { get; set; }
    public string Status { get; set; } = "RUNNING";
    public string ArtifactUri { get; set; } = "";
    public bool Deleted { get; set; }
    public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<FakePoint>> Metrics { get; } = new(StringComparer.Ordinal);
    public List<string> Inputs { get; } = [];
    public List<(string ModelId, long Step)> Outputs { get; } = [];

    public JsonObject ToJson()
    {
        var info = new JsonObject
        {
            ["run_id"] = RunId,
            ["run_uuid"] = RunId,
            ["experiment_id"] = ExperimentId,
            ["run_name"] = RunName,
            ["user_id"] = UserId,
            ["status"] = Status,
            ["start_time"] = StartTime,
            ["artifact_uri"] = ArtifactUri,
            ["lifecycle_stage"] = Deleted ? "deleted" : "active",
        };
        if (EndTime is { } end)
        {
            info["end_time"] = end;
        }

        var data = new JsonObject();
        if (Params.Count > 0)
        {
            data["params"] = new JsonArray(Params.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());
        }

        if (Tags.Count > 0)
        {
            data["tags"] = new JsonArray(Tags.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());
        }

        var run = new JsonObject { ["info"] = info, ["data"] = data };
        if (Outputs.Count > 0)
        {
            run["outputs"] = new JsonObject { ["model_outputs"] = new JsonArray(Outputs.Select(o => (JsonNode)new JsonObject { ["model_id"] = o.ModelId, ["step"] = o.Step }).ToArray()) };
        }

        return run;
    }
}
