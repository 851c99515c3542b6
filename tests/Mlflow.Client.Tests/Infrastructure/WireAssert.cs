using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;
using WireMock.Logging;

namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>Helpers to compare what the client sent and parsed with recorded JSON.</summary>
internal static class WireAssert
{
    /// <summary>The decoded query of a received request; repeated keys keep every value, in order.</summary>
    public static Dictionary<string, List<string>> Query(ILogEntry entry)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var query = new Uri(entry.RequestMessage.Url).Query;
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Decode(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? "" : Decode(part[(eq + 1)..]);
            if (!result.TryGetValue(key, out var list))
            {
                result[key] = list = [];
            }

            list.Add(value);
        }

        return result;
    }

    private static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));

    /// <summary>Asserts a decoded query equals the expected one (keys in any order, values in order).</summary>
    public static void QueryEquals(Dictionary<string, List<string>> actual, IReadOnlyDictionary<string, List<string>> expected, string because)
    {
        Assert.That(actual.Keys.Order(StringComparer.Ordinal), Is.EqualTo(expected.Keys.Order(StringComparer.Ordinal)), "query keys " + because);
        foreach (var (key, values) in expected)
        {
            Assert.That(actual[key], Is.EqualTo(values), $"query '{key}' {because}");
        }
    }

    /// <summary>A metric value as the server writes it: a number or "NaN"/"Infinity"/"-Infinity".</summary>
    public static double Double(JsonNode? node)
    {
        Assert.That(node, Is.Not.Null);
        return node!.GetValueKind() == JsonValueKind.String
            ? double.Parse(node.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : node.GetValue<double>();
    }

    public static long? Long(JsonNode? node) => node is null ? null : node.GetValueKind() == JsonValueKind.String
        ? long.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture)
        : node.GetValue<long>();

    public static string? Str(JsonNode? node) => node?.GetValue<string>();

    public static int Count(JsonNode? array) => array is JsonArray a ? a.Count : 0;

    public static void SameDouble(double actual, double expected, string because)
    {
        if (double.IsNaN(expected))
        {
            Assert.That(double.IsNaN(actual), Is.True, because + $": expected NaN, got {actual}");
        }
        else
        {
            Assert.That(actual, Is.EqualTo(expected), because);
        }
    }

    public static void Experiment(Experiment actual, JsonNode expected)
    {
        Assert.That(actual.ExperimentId, Is.EqualTo(Str(expected["experiment_id"])));
        Assert.That(actual.Name, Is.EqualTo(Str(expected["name"])));
        Assert.That(actual.ArtifactLocation, Is.EqualTo(Str(expected["artifact_location"])));
        Assert.That(actual.LifecycleStage.ToString().ToLowerInvariant(), Is.EqualTo(Str(expected["lifecycle_stage"])));
        Assert.That(actual.CreationTime, Is.EqualTo(Long(expected["creation_time"])));
        Assert.That(actual.LastUpdateTime, Is.EqualTo(Long(expected["last_update_time"])));
        Assert.That(actual.Tags.Select(t => (t.Key, t.Value)), Is.EqualTo(((expected["tags"] as JsonArray) ?? []).Select(t => (Str(t!["key"])!, Str(t["value"]) ?? ""))));
    }

    public static void RunInfo(RunInfo actual, JsonNode expected)
    {
        Assert.That(actual.RunId, Is.EqualTo(Str(expected["run_id"])));
        Assert.That(actual.RunId, Is.EqualTo(Str(expected["run_uuid"])), "run_id and run_uuid agree");
        Assert.That(actual.ExperimentId, Is.EqualTo(Str(expected["experiment_id"])));
        Assert.That(actual.RunName, Is.EqualTo(Str(expected["run_name"])));
        Assert.That(actual.UserId, Is.EqualTo(Str(expected["user_id"])));
        Assert.That(actual.Status.ToString().ToUpperInvariant(), Is.EqualTo(Str(expected["status"])));
        Assert.That(actual.LifecycleStage.ToString().ToLowerInvariant(), Is.EqualTo(Str(expected["lifecycle_stage"])));
        Assert.That(actual.StartTime, Is.EqualTo(Long(expected["start_time"])));
        Assert.That(actual.EndTime, Is.EqualTo(Long(expected["end_time"])));
        Assert.That(actual.ArtifactUri, Is.EqualTo(Str(expected["artifact_uri"])));
    }

    public static void Run(Run actual, JsonNode expected)
    {
        RunInfo(actual.Info, expected["info"]!);
        var data = expected["data"];
        Metrics(actual.Data.Metrics, data?["metrics"]);
        Assert.That(actual.Data.Params.Select(p => (p.Key, p.Value)), Is.EqualTo(((data?["params"] as JsonArray) ?? []).Select(t => (Str(t!["key"])!, Str(t["value"]) ?? ""))), "params");
        Assert.That(actual.Data.Tags.Select(p => (p.Key, p.Value)), Is.EqualTo(((data?["tags"] as JsonArray) ?? []).Select(t => (Str(t!["key"])!, Str(t["value"]) ?? ""))), "tags");
        Assert.That(actual.Inputs.DatasetInputs, Has.Count.EqualTo(Count(expected["inputs"]?["dataset_inputs"])), "dataset inputs");
    }

    public static void Metrics(IReadOnlyList<Metric> actual, JsonNode? expected)
    {
        var list = (expected as JsonArray) ?? [];
        Assert.That(actual, Has.Count.EqualTo(list.Count), "metric count");
        for (var i = 0; i < list.Count; i++)
        {
            var e = list[i]!;
            Assert.That(actual[i].Key, Is.EqualTo(Str(e["key"])), $"metric {i} key");
            SameDouble(actual[i].Value, Double(e["value"]), $"metric {i} value");
            Assert.That(actual[i].Timestamp, Is.EqualTo(Long(e["timestamp"])), $"metric {i} timestamp");
            Assert.That(actual[i].Step, Is.EqualTo(Long(e["step"]) ?? 0), $"metric {i} step");
            Assert.That(actual[i].RunId, Is.EqualTo(Str(e["run_id"])), $"metric {i} run_id");
        }
    }
}
