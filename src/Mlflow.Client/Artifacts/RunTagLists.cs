using System.Text.Json;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// The two run tags that hold JSON lists MLflow appends to: <c>mlflow.loggedArtifacts</c> (tables, for the UI's
/// evaluation view; entries <c>{"path": ..., "type": "table"}</c>, never twice) and <c>mlflow.log-model.history</c>
/// (one entry per logged model, the MLmodel content as a dict). Values are written as Python's <c>json.dumps</c> writes
/// them, like MLflow's <c>log_table</c> and its stores' <c>record_logged_model</c>.
/// </summary>
internal static class RunTagLists
{
    /// <summary>The tag listing a run's tables (MLflow's <c>MLFLOW_LOGGED_ARTIFACTS</c>).</summary>
    public const string LoggedArtifactsTag = "mlflow.loggedArtifacts";

    /// <summary>The tag listing a run's models (MLflow's <c>MLFLOW_LOGGED_MODELS</c>).</summary>
    public const string LoggedModelsTag = "mlflow.log-model.history";

    /// <summary>
    /// The tag value with <c>{"path": path, "type": type}</c> appended, or <see langword="null"/> when the list already
    /// holds that entry (MLflow then leaves the tag as it is).
    /// </summary>
    public static string? AppendArtifact(string? current, string path, string type)
    {
        var entries = Parse(current, LoggedArtifactsTag);
        foreach (var e in entries)
        {
            if (e.ValueKind == JsonValueKind.Object && e.EnumerateObject().Count() == 2
                && e.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String && p.GetString() == path
                && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type)
            {
                return null;
            }
        }

        List<KeyValuePair<string, object?>> entry = [new("path", path), new("type", type)];
        return PythonJson.Serialize(entries.Select(e => (object?)e).Append(entry).ToList());
    }

    /// <summary>The tag value with one more entry, an ordered mapping written as <see cref="PythonJson"/> does.</summary>
    public static string Append(string? current, IEnumerable<KeyValuePair<string, object?>> entry, string tag)
        => PythonJson.Serialize(Parse(current, tag).Select(e => (object?)e).Append(entry).ToList());

    private static List<JsonElement> Parse(string? current, string tag)
    {
        if (string.IsNullOrEmpty(current))
        {
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(current);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"The run tag {tag} does not hold a JSON list; it was set by something other than MLflow. Delete it to log again.");
            }

            return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The run tag {tag} is not valid JSON; it was set by something other than MLflow. Delete it to log again.", ex);
        }
    }
}
