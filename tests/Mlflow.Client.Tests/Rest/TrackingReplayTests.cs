using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// Replays every recorded exchange of the tracking endpoints (experiments, runs, metrics, artifacts/list) of
/// both backends: WireMock answers what the real server answered, the public client method is called with the
/// recorded arguments, and both directions are checked.
/// </summary>
[TestFixture]
public class TrackingReplayTests
{
    private const string PlaceholderRunId = "0123456789abcdef0123456789abcdef";

    /// <summary>
    /// Recordings made with a hand-crafted request a typed client cannot produce. For these only the method,
    /// the path and the mapping of the answer are checked, with placeholder arguments where the recording has none.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string> HandCrafted = new Dictionary<string, string>
    {
        ["experiments-create.missing-name"] = "name is required: CreateExperimentAsync refuses an empty name before sending",
        ["experiments-search.missing-max-results"] = "the client always sends max_results (ExperimentSearchOptions.MaxResults, default 1000)",
        ["experiments-search.get-ok"] = "GET form of the search with query parameters; the client uses the POST form",
        ["metrics-get-history.missing-key"] = "metricKey is required by GetMetricHistoryAsync",
        ["metrics-get-history.paged"] = "page size 2 cannot be asked: GetMetricHistoryAsync always sends max_results=25000 and follows tokens",
        ["runs-create.no-experiment-id"] = "experimentId is required by CreateRunAsync (always sent)",
        ["runs-get.missing-run-id"] = "runId is required by GetRunAsync",
        ["runs-log-batch.malformed-json"] = "truncated JSON body; the client serializes valid JSON",
        ["runs-log-batch.metric-missing-timestamp"] = "Metric.Timestamp is a non-nullable long, always sent",
        ["runs-log-metric.bare-nan-token"] = "bare NaN token; the client sends NaN as the string \"NaN\"",
        ["runs-log-metric.malformed-json"] = "truncated JSON body; the client serializes valid JSON",
        ["runs-log-metric.missing-timestamp"] = "timestamp always sent (now when not given)",
        ["runs-log-metric.missing-value"] = "value is a double, always sent",
        ["runs-log-metric.non-numeric-value"] = "value \"abc\" is not a double",
        ["runs-log-metric.value-as-numeric-string"] = "finite values are sent as JSON numbers, never as numeric strings",
        ["runs-log-parameter.no-content-type"] = "the client always sends Content-Type: application/json",
        ["runs-log-parameter.text-plain"] = "the client always sends Content-Type: application/json",
        ["runs-log-parameter.numeric-value"] = "param values are strings in the typed API",
        ["runs-log-parameter.wrong-type-run-id"] = "run ids are strings in the typed API",
        ["runs-log-parameter.unknown-field"] = "the client sends no unknown fields",
        ["runs-log-parameter.run-uuid-alias"] = "the client sends run_id, never the deprecated run_uuid alias",
        ["runs-update.bad-status"] = "RunStatus has no value DONE",
    };

    private static readonly string[] TrackingPrefixes =
    [
        "/api/2.0/mlflow/experiments/", "/api/2.0/mlflow/runs/", "/api/2.0/mlflow/metrics/", "/api/2.0/mlflow/artifacts/list",
    ];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var folder in new[] { "rest", "rest-file-backend" })
        {
            foreach (var fixture in RestFixture.All(folder))
            {
                // server-* cases (unknown route, wrong method) are not endpoints of the API: see ErrorMappingTests
                if (TrackingPrefixes.Any(p => fixture.Path.StartsWith(p, StringComparison.Ordinal)) && !fixture.Case.StartsWith("server-", StringComparison.Ordinal))
                {
                    yield return new TestCaseData(folder, fixture.Case).SetName($"Replay({folder}/{fixture.Case})");
                }
            }
        }
    }

    [Test]
    public void EveryTrackingFixtureIsReplayed()
    {
        // Guards the data source itself: both folders are found and hold the endpoints this test covers.
        var cases = Cases().ToList();
        Assert.That(cases.Count(c => (string)c.Arguments[0]! == "rest"), Is.GreaterThan(120));
        Assert.That(cases.Count(c => (string)c.Arguments[0]! == "rest-file-backend"), Is.GreaterThan(110));
        var names = cases.Select(c => (string)c.Arguments[1]!).ToHashSet();
        Assert.That(HandCrafted.Keys.Where(k => !names.Contains(k)), Is.Empty, "every hand-crafted entry names a real fixture");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Replay(string folder, string caseName)
    {
        var fixture = RestFixture.Load(folder, caseName);
        var handCrafted = HandCrafted.ContainsKey(caseName);
        var method = caseName == "experiments-search.get-ok" ? "POST" : fixture.Method; // see HandCrafted
        using var server = FixtureServer.Start().Answer(fixture, method);
        using var client = server.CreateClient();
        var call = Dispatch(fixture);

        object? result = null;
        MlflowException? error = null;
        try
        {
            result = await call.Invoke(client);
        }
        catch (MlflowException ex)
        {
            error = ex;
        }

        // (a) what the client sent
        var sent = server.SingleRequest();
        Assert.That(sent.RequestMessage.Method, Is.EqualTo(method), "method");
        Assert.That(sent.RequestMessage.Path, Is.EqualTo(fixture.Path), "path");
        if (method == "GET")
        {
            Assert.That(sent.RequestMessage.Body, Is.Null.Or.Empty, "GET sends no body");
        }
        else
        {
            Assert.That(sent.RequestMessage.Headers!["Content-Type"].Single(), Does.StartWith("application/json"));
        }

        if (!handCrafted)
        {
            if (fixture.Method == "GET")
            {
                WireAssert.QueryEquals(WireAssert.Query(sent), ExpectedQuery(fixture), "sent");
            }
            else
            {
                Assert.That(WireAssert.Query(sent), Is.Empty, "POST sends no query");
                var expected = ExpectedBody(fixture);
                var actual = FixtureServer.BodyJson(sent);
                Assert.That(JsonNode.DeepEquals(actual, expected), Is.True, $"body sent:\n{actual?.ToJsonString()}\nexpected:\n{expected?.ToJsonString()}");
            }
        }

        // (b) / (c) what the client made of the answer
        var getByNameMiss = fixture.Path.EndsWith("/experiments/get-by-name", StringComparison.Ordinal) && fixture.Status == 404;
        if (fixture.Status is >= 200 and < 300 || getByNameMiss)
        {
            Assert.That(error, Is.Null, () => "unexpected error: " + error);
            if (getByNameMiss)
            {
                Assert.That(result, Is.Null, "get-by-name answers null for 404");
            }
            else
            {
                CheckResult(fixture, result);
            }
        }
        else
        {
            Assert.That(error, Is.Not.Null, "an error answer must throw MlflowException");
            CheckError(fixture, error!);
        }
    }

    internal static void CheckError(RestFixture fixture, MlflowException error)
    {
        Assert.That(error.StatusCode, Is.EqualTo((HttpStatusCode)fixture.Status), "status");
        Assert.That(error.Method, Is.EqualTo(fixture.Method), "method");
        Assert.That(error.Path, Is.EqualTo(fixture.Path), "path");
        if (fixture.ResponseJson?["error_code"] is { } code)
        {
            Assert.That(error.RawErrorCode, Is.EqualTo(code.GetValue<string>()), "raw error code");
            Assert.That(error.ErrorCode, Is.EqualTo(ExpectedCode(code.GetValue<string>())), "typed error code");
            Assert.That(error.ServerMessage, Is.EqualTo(fixture.ResponseJson["message"]?.GetValue<string>()), "server message");
            Assert.That(error.Message, Does.Contain(code.GetValue<string>()));
        }
        else
        {
            Assert.That(error.RawErrorCode, Is.Null);
            Assert.That(error.ErrorCode, Is.EqualTo(MlflowErrorCode.Unknown));
            Assert.That(error.ServerMessage, Is.Not.Null.And.Not.Empty);
            Assert.That(error.ServerMessage, Does.Not.Contain("<").And.Not.Contain(">"), "HTML tags stripped");
            Assert.That(error.ServerMessage!.Length, Is.LessThanOrEqualTo(301), "an excerpt, not the whole page");
        }
    }

    private static MlflowErrorCode ExpectedCode(string raw) => raw switch
    {
        "INVALID_PARAMETER_VALUE" => MlflowErrorCode.InvalidParameterValue,
        "RESOURCE_ALREADY_EXISTS" => MlflowErrorCode.ResourceAlreadyExists,
        "RESOURCE_DOES_NOT_EXIST" => MlflowErrorCode.ResourceDoesNotExist,
        "BAD_REQUEST" => MlflowErrorCode.BadRequest,
        "INTERNAL_ERROR" => MlflowErrorCode.InternalError,
        "INVALID_STATE" => MlflowErrorCode.InvalidState,
        _ => throw new AssertionException("a fixture error code this test does not know: " + raw),
    };

    private static void CheckResult(RestFixture fixture, object? result)
    {
        var endpoint = Endpoint(fixture);
        var json = fixture.ResponseJson ?? new JsonObject();
        switch (endpoint)
        {
            case "experiments/create":
                Assert.That(result, Is.EqualTo(WireAssert.Str(json["experiment_id"])));
                break;
            case "experiments/get" or "experiments/get-by-name":
                Assert.That(result, Is.InstanceOf<Experiment>());
                WireAssert.Experiment((Experiment)result!, json["experiment"]!);
                break;
            case "experiments/search":
            {
                var page = (Page<Experiment>)result!;
                var list = (json["experiments"] as JsonArray) ?? [];
                Assert.That(page.Items, Has.Count.EqualTo(list.Count));
                for (var i = 0; i < list.Count; i++)
                {
                    WireAssert.Experiment(page.Items[i], list[i]!);
                }

                Assert.That(page.NextPageToken, Is.EqualTo(WireAssert.Str(json["next_page_token"])));
                break;
            }

            case "runs/create" or "runs/get":
                Assert.That(result, Is.InstanceOf<Run>());
                WireAssert.Run((Run)result!, json["run"]!);
                break;
            case "runs/update":
                Assert.That(result, Is.InstanceOf<RunInfo>());
                WireAssert.RunInfo((RunInfo)result!, json["run_info"]!);
                break;
            case "runs/search":
            {
                var page = (Page<Run>)result!;
                var list = (json["runs"] as JsonArray) ?? [];
                Assert.That(page.Items, Has.Count.EqualTo(list.Count));
                for (var i = 0; i < list.Count; i++)
                {
                    WireAssert.Run(page.Items[i], list[i]!);
                }

                Assert.That(page.NextPageToken, Is.EqualTo(WireAssert.Str(json["next_page_token"])));
                break;
            }

            case "metrics/get-history" or "metrics/get-history-bulk-interval":
                WireAssert.Metrics((IReadOnlyList<Metric>)result!, json["metrics"]);
                break;
            case "artifacts/list":
            {
                var files = (IReadOnlyList<ArtifactFileInfo>)result!;
                var list = (json["files"] as JsonArray) ?? [];
                Assert.That(files.Select(f => (f.Path, f.IsDir, f.FileSize)), Is.EqualTo(list.Select(f => (
                    WireAssert.Str(f!["path"])!, f["is_dir"]?.GetValue<bool>() ?? false, WireAssert.Long(f["file_size"])))));
                break;
            }

            default:
                // write endpoints answer {} and return nothing
                Assert.That(result, Is.Null, endpoint);
                Assert.That(json.AsObject(), Is.Empty, "write endpoints answer {}");
                break;
        }
    }

    private static string Endpoint(RestFixture fixture) => fixture.Path["/api/2.0/mlflow/".Length..];

    /// <summary>The recorded query plus what the client always adds (get-history's page size).</summary>
    private static Dictionary<string, List<string>> ExpectedQuery(RestFixture fixture)
    {
        var expected = fixture.Query.ToDictionary(kv => kv.Key, kv => kv.Value.ToList(), StringComparer.Ordinal);
        if (Endpoint(fixture) == "metrics/get-history")
        {
            expected["max_results"] = [MlflowClient.MetricHistoryPageSize.ToString(CultureInfo.InvariantCulture)];
        }

        return expected;
    }

    /// <summary>The recorded body plus fields the typed client always sends with a default.</summary>
    private static JsonNode? ExpectedBody(RestFixture fixture)
    {
        var body = RecordedBody(fixture);
        if (body is not JsonObject o)
        {
            return body;
        }

        switch (Endpoint(fixture))
        {
            case "runs/search" when o["max_results"] is null:
                o["max_results"] = new RunSearchOptions().MaxResults; // default page size, always sent
                break;
            case "runs/log-metric" when o["step"] is null:
                o["step"] = 0; // step defaults to 0 and is always sent
                break;
            case "runs/log-parameter" when o["value"] is null:
                o["value"] = ""; // a null value is sent as the empty string
                break;
            case "runs/log-batch" when o["metrics"] is JsonArray metrics:
                foreach (var m in metrics.OfType<JsonObject>().Where(m => m["step"] is null))
                {
                    m["step"] = 0;
                }

                break;
        }

        return o;
    }

    private static JsonNode? RecordedBody(RestFixture fixture)
    {
        if (fixture.RequestJson is not null)
        {
            return fixture.RequestJson.DeepClone();
        }

        // runs-log-parameter.json-charset recorded valid JSON as text, with "; charset=utf-8" (what the client sends)
        return fixture.RequestBodyText is { } text ? JsonNode.Parse(text) : null;
    }

    /// <summary>Maps a recording to the public client call that produces it.</summary>
    private static Func<MlflowClient, Task<object?>> Dispatch(RestFixture f)
    {
        var body = RecordedBody(SafeBody(f));
        string S(string name, string fallback = "x") => Text(body?[name]) ?? (f.Query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null) ?? fallback;
        string? O(string name) => Text(body?[name]) ?? (f.Query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null);
        var runId = S("run_id", PlaceholderRunId);

        return Endpoint(f) switch
        {
            "experiments/create" => async c => await c.CreateExperimentAsync(S("name"), O("artifact_location"), Tags(body?["tags"])),
            "experiments/get" => async c => await c.GetExperimentAsync(S("experiment_id")),
            "experiments/get-by-name" => async c => await c.GetExperimentByNameAsync(S("experiment_name")),
            "experiments/search" => async c => await c.SearchExperimentsAsync(
                new ExperimentSearchOptions
                {
                    Filter = O("filter"),
                    OrderBy = Strings(body?["order_by"]),
                    MaxResults = int.Parse(S("max_results", "1000"), CultureInfo.InvariantCulture),
                    ViewType = Enum<ViewType>(O("view_type")),
                },
                O("page_token")),
            "experiments/update" => Void(c => c.RenameExperimentAsync(S("experiment_id"), S("new_name"))),
            "experiments/delete" => Void(c => c.DeleteExperimentAsync(S("experiment_id"))),
            "experiments/restore" => Void(c => c.RestoreExperimentAsync(S("experiment_id"))),
            "experiments/set-experiment-tag" => Void(c => c.SetExperimentTagAsync(S("experiment_id"), S("key"), S("value", ""))),
            "runs/create" => async c => await c.CreateRunAsync(S("experiment_id", "0"), O("run_name"), LongOrNull(body?["start_time"]), Tags(body?["tags"]), O("user_id")),
            "runs/update" => async c => await c.UpdateRunAsync(runId, Enum<RunStatus>(O("status")), LongOrNull(body?["end_time"]), O("run_name")),
            "runs/delete" => Void(c => c.DeleteRunAsync(runId)),
            "runs/restore" => Void(c => c.RestoreRunAsync(runId)),
            "runs/get" => async c => await c.GetRunAsync(runId),
            "runs/search" => async c => await c.SearchRunsAsync(
                new RunSearchOptions
                {
                    ExperimentIds = Strings(body?["experiment_ids"]) ?? ["0"],
                    Filter = O("filter"),
                    ViewType = Enum<ViewType>(O("run_view_type")),
                    MaxResults = int.Parse(S("max_results", "1000"), CultureInfo.InvariantCulture),
                    OrderBy = Strings(body?["order_by"]),
                },
                O("page_token")),
            "runs/set-tag" => Void(c => c.SetTagAsync(runId, S("key"), S("value", ""))),
            "runs/delete-tag" => Void(c => c.DeleteTagAsync(runId, S("key"))),
            "runs/log-metric" => Void(c => c.LogMetricAsync(runId, S("key"), DoubleOr(body?["value"], 1.0), LongOrNull(body?["timestamp"]) ?? 1_700_000_000_000, LongOrNull(body?["step"]) ?? 0)),
            "runs/log-parameter" => Void(c => c.LogParamAsync(runId, S("key"), O("value")!)),
            "runs/log-batch" => Void(c => c.LogBatchAsync(runId, Metrics(body?["metrics"]), Params(body?["params"]), Tags(body?["tags"])?.ToList())),
            "runs/log-inputs" => Void(c => c.LogInputsAsync(runId, Datasets(body?["datasets"]))),
            "metrics/get-history" => async c => await c.GetMetricHistoryAsync(runId, S("metric_key")),
            "metrics/get-history-bulk-interval" => async c => await c.GetMetricHistoryBulkIntervalAsync(
                f.Query["run_ids"].ToList(), S("metric_key"), LongOrNull(Q(f, "start_step")), LongOrNull(Q(f, "end_step")), (int?)LongOrNull(Q(f, "max_results"))),
            "artifacts/list" => async c => await c.ListArtifactsAsync(runId, O("path")),
            var other => throw new AssertionException("no dispatch for tracking endpoint " + other),
        };
    }

    /// <summary>The fixture with a body that is safe to read arguments from (malformed JSON gives none).</summary>
    private static RestFixture SafeBody(RestFixture f)
    {
        if (f.RequestJson is not null || f.RequestBodyText is null)
        {
            return f;
        }

        try
        {
            JsonNode.Parse(f.RequestBodyText);
            return f;
        }
        catch (JsonException)
        {
            return RestFixture.Parse(new JsonObject
            {
                ["case"] = f.Case,
                ["request"] = new JsonObject { ["method"] = f.Method, ["path"] = f.Path },
                ["response"] = new JsonObject { ["status"] = f.Status },
            }.ToJsonString());
        }
    }

    private static JsonNode? Q(RestFixture f, string name) => f.Query.TryGetValue(name, out var v) && v.Count > 0 ? JsonValue.Create(v[0]) : null;

    private static Func<MlflowClient, Task<object?>> Void(Func<MlflowClient, Task> call) => async c =>
    {
        await call(c);
        return null;
    };

    private static string? Text(JsonNode? node) => node is null ? null : node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();

    private static long? LongOrNull(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }

        return long.TryParse(Text(node), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static double DoubleOr(JsonNode? node, double fallback)
        => node is not null && double.TryParse(Text(node), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static TEnum? Enum<TEnum>(string? text)
        where TEnum : struct, Enum
        => text is not null && System.Enum.TryParse<TEnum>(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var v) ? v : null;

    private static List<string>? Strings(JsonNode? node) => (node as JsonArray)?.Select(n => n!.GetValue<string>()).ToList();

    private static IEnumerable<Tag>? Tags(JsonNode? node)
        => (node as JsonArray)?.Select(t => new Tag(t!["key"]!.GetValue<string>(), t["value"]?.GetValue<string>() ?? "")).ToList();

    private static List<Param>? Params(JsonNode? node)
        => (node as JsonArray)?.Select(t => new Param(t!["key"]!.GetValue<string>(), t["value"]?.GetValue<string>() ?? "")).ToList();

    private static List<Metric>? Metrics(JsonNode? node)
        => (node as JsonArray)?.Select(m => new Metric(m!["key"]!.GetValue<string>(), DoubleOr(m["value"], 1.0), LongOrNull(m["timestamp"]) ?? 0, LongOrNull(m["step"]) ?? 0)).ToList();

    private static List<DatasetInput> Datasets(JsonNode? node)
        => ((node as JsonArray) ?? []).Select(d => new DatasetInput
        {
            Tags = Tags(d!["tags"])?.ToList() ?? [],
            Dataset = new Dataset
            {
                Name = d["dataset"]!["name"]!.GetValue<string>(),
                Digest = d["dataset"]!["digest"]!.GetValue<string>(),
                SourceType = d["dataset"]!["source_type"]!.GetValue<string>(),
                Source = d["dataset"]!["source"]!.GetValue<string>(),
                Schema = d["dataset"]!["schema"]?.GetValue<string>(),
                Profile = d["dataset"]!["profile"]?.GetValue<string>(),
            },
        }).ToList();
}
