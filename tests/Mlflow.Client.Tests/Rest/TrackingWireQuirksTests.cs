using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>Focused tests of the wire quirks of MLflow's tracking API (see the fixtures README).</summary>
[TestFixture]
public class TrackingWireQuirksTests
{
    private const string RunId = "fcd8bee3f3904b21b113f8c8f6836750";
    private const string HistoryPath = "/api/2.0/mlflow/metrics/get-history";

    [Test]
    public async Task Infinity_Sqlite_ComesBackAsDblMax_AndNaNAsString()
    {
        var fixture = RestFixture.Load("rest", "metrics-get-history.infinity");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var points = await client.GetMetricHistoryAsync(RunId, "inf_metric");

        Assert.That(points.Select(p => p.Value).Take(2), Is.EqualTo(new[] { double.MaxValue, double.MinValue }));
        Assert.That(double.IsNaN(points[2].Value), Is.True);
        Assert.That(points.Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, 2 }));
    }

    [Test]
    public async Task Infinity_FileBackend_ComesBackAsStrings()
    {
        var fixture = RestFixture.Load("rest-file-backend", "metrics-get-history.infinity");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var points = await client.GetMetricHistoryAsync(fixture.Arg("run_id")!, "inf_metric");

        Assert.That(points, Has.Count.EqualTo(3));
        Assert.That(double.IsPositiveInfinity(points[0].Value), Is.True, points[0].ToString());
        Assert.That(double.IsNegativeInfinity(points[1].Value), Is.True, points[1].ToString());
        Assert.That(double.IsNaN(points[2].Value), Is.True, points[2].ToString());
    }

    [TestCase("rest")]
    [TestCase("rest-file-backend")]
    public async Task StepAbove2Pow53_StaysExact(string folder)
    {
        var fixture = RestFixture.Load(folder, "metrics-get-history.acc");
        Assert.That(fixture.ResponseBody, Does.Contain("9007199254740993"), "the fixture holds the big step");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var points = await client.GetMetricHistoryAsync(fixture.Arg("run_id")!, "acc");

        Assert.That(points.Select(p => p.Step), Does.Contain(9_007_199_254_740_993L));
        Assert.That(points.Max(p => p.Step), Is.EqualTo(9_007_199_254_740_993L), "not rounded to 2^53 via double");
    }

    [Test]
    public async Task EmptyAnswers_GiveEmptyLists()
    {
        var search = RestFixture.Load("rest", "runs-search.no-match");
        var history = RestFixture.Load("rest", "metrics-get-history.unknown-key");
        Assert.That(search.ResponseBody, Is.EqualTo("{}"));
        Assert.That(history.ResponseBody, Is.EqualTo("{}"));
        using var server = FixtureServer.Start().Answer(search).Answer(history);
        using var client = server.CreateClient();

        var page = await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = ["1"], Filter = "params.nonexistent = 'x'" });
        var points = await client.GetMetricHistoryAsync(RunId, "never_logged");

        Assert.That(page.Items, Is.Not.Null.And.Empty);
        Assert.That(page.NextPageToken, Is.Null);
        Assert.That(points, Is.Not.Null.And.Empty);
    }

    [Test]
    public async Task RunWithoutMetrics_HasEmptyCollections_NotNull()
    {
        var fixture = RestFixture.Load("rest", "runs-create.no-name");
        Assert.That(fixture.ResponseJson!["run"]!["data"]!["metrics"], Is.Null, "the server omits empty lists");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var run = await client.CreateRunAsync("1", startTime: 1_700_000_000_000);

        Assert.That(run.Data.Metrics, Is.Not.Null.And.Empty);
        Assert.That(run.Data.Params, Is.Not.Null.And.Empty);
        Assert.That(run.Inputs.DatasetInputs, Is.Not.Null.And.Empty, "runs/create has no inputs member at all");
        Assert.That(run.Info.RunName, Is.EqualTo("monumental-goose-237"));
    }

    [TestCase(double.NaN, "NaN")]
    [TestCase(double.PositiveInfinity, "Infinity")]
    [TestCase(double.NegativeInfinity, "-Infinity")]
    public async Task NonFiniteMetric_IsSentAsString_ByLogMetric(double value, string expected)
    {
        using var server = FixtureServer.Start();
        AnswerEmpty(server, "/api/2.0/mlflow/runs/log-metric");
        using var client = server.CreateClient();

        await client.LogMetricAsync(RunId, "loss", value, 1_700_000_000_002, 1);

        var body = server.SingleRequest().RequestMessage.Body!;
        var sentValue = JsonNode.Parse(body)!["value"]!;
        Assert.That(sentValue.GetValueKind(), Is.EqualTo(JsonValueKind.String), body);
        Assert.That(sentValue.GetValue<string>(), Is.EqualTo(expected));
        Assert.That(body, Does.Contain($"\"value\":\"{expected}\""), "never a bare token");
    }

    [Test]
    public async Task NonFiniteMetrics_AreSentAsStrings_ByLogBatch_FiniteAsNumbers()
    {
        using var server = FixtureServer.Start();
        AnswerEmpty(server, "/api/2.0/mlflow/runs/log-batch");
        using var client = server.CreateClient();

        await client.LogBatchAsync(RunId, [
            new Metric("m", double.NaN, 1_700_000_000_000, 0),
            new Metric("m", double.PositiveInfinity, 1_700_000_000_000, 1),
            new Metric("m", double.NegativeInfinity, 1_700_000_000_000, 2),
            new Metric("m", 0.25, 1_700_000_000_000, 9_007_199_254_740_993),
        ]);

        var body = server.SingleRequest().RequestMessage.Body!;
        var metrics = JsonNode.Parse(body)!["metrics"]!.AsArray();
        Assert.That(metrics.Take(3).Select(m => m!["value"]!.GetValueKind()), Is.All.EqualTo(JsonValueKind.String), body);
        Assert.That(metrics.Take(3).Select(m => m!["value"]!.GetValue<string>()), Is.EqualTo(new[] { "NaN", "Infinity", "-Infinity" }));
        Assert.That(metrics[3]!["value"]!.GetValueKind(), Is.EqualTo(JsonValueKind.Number));
        Assert.That(body, Does.Contain("\"step\":9007199254740993"), "int64 written digit-exact");
        Assert.That(metrics[0]!.AsObject().ContainsKey("run_id"), Is.False, "no run_id inside batch metrics");
    }

    [Test]
    public async Task SearchExperiments_AlwaysSendsMaxResults()
    {
        using var server = FixtureServer.Start();
        AnswerEmpty(server, "/api/2.0/mlflow/experiments/search");
        using var client = server.CreateClient();

        await client.SearchExperimentsAsync();
        await client.SearchExperimentsAsync(new ExperimentSearchOptions { MaxResults = 7, Filter = "name LIKE 'x%'" });

        var bodies = server.Requests.Select(r => JsonNode.Parse(r.RequestMessage.Body!)!).ToList();
        Assert.That(bodies[0]!["max_results"]!.GetValue<int>(), Is.EqualTo(1000));
        Assert.That(bodies[1]!["max_results"]!.GetValue<int>(), Is.EqualTo(7));
        Assert.That(bodies[1]!["filter"]!.GetValue<string>(), Is.EqualTo("name LIKE 'x%'"));
    }

    [Test]
    public async Task GetMetricHistory_SendsMaxResults_AndFollowsPageToken()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(HistoryPath).UsingGet()).AtPriority(10)
            .RespondWith(Json("""{"metrics":[{"key":"loss","value":1.0,"timestamp":1,"step":0},{"key":"loss","value":"NaN","timestamp":2,"step":1}],"next_page_token":"tok+/1="}"""));
        server.Server.Given(Request.Create().WithPath(HistoryPath).UsingGet().WithParam("page_token", "tok+/1=")).AtPriority(1)
            .RespondWith(Json("""{"metrics":[{"key":"loss","value":0.5,"timestamp":3,"step":2}]}"""));
        using var client = server.CreateClient();

        var points = await client.GetMetricHistoryAsync(RunId, "loss");

        Assert.That(points.Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, 2 }));
        var queries = server.Requests.Select(WireAssert.Query).ToList();
        Assert.That(queries, Has.Count.EqualTo(2));
        Assert.That(queries.Select(q => q["max_results"].Single()), Is.All.EqualTo("25000"));
        Assert.That(queries[0].ContainsKey("page_token"), Is.False);
        Assert.That(queries[1]["page_token"].Single(), Is.EqualTo("tok+/1="), "the token is sent back url-encoded and intact");
        Assert.That(queries[1]["run_id"].Single(), Is.EqualTo(RunId));
    }

    [Test]
    public void GetMetricHistory_ServerRepeatingItsToken_StopsInsteadOfLoopingForever()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(HistoryPath).UsingGet())
            .RespondWith(Json("""{"metrics":[{"key":"loss","value":1.0,"timestamp":1,"step":0}],"next_page_token":"same"}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetMetricHistoryAsync(RunId, "loss").WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.That(ex!.Message, Does.Contain("page token"));
        Assert.That(server.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task SearchAllRuns_FollowsTokens_AndStopsOnLastPage()
    {
        const string path = "/api/2.0/mlflow/runs/search";
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(path).UsingPost()).AtPriority(10)
            .RespondWith(Json(RunsPage(["a1", "a2"], "p2")));
        server.Server.Given(Request.Create().WithPath(path).UsingPost().WithBody(new JsonPartialMatcher("""{"page_token":"p2"}"""))).AtPriority(1)
            .RespondWith(Json(RunsPage(["b1"], "p3")));
        server.Server.Given(Request.Create().WithPath(path).UsingPost().WithBody(new JsonPartialMatcher("""{"page_token":"p3"}"""))).AtPriority(1)
            .RespondWith(Json(RunsPage(["c1"], null)));
        using var client = server.CreateClient();

        var runs = new List<Run>();
        await foreach (var run in client.SearchAllRunsAsync(new RunSearchOptions { ExperimentIds = ["1"], MaxResults = 2 }))
        {
            runs.Add(run);
        }

        Assert.That(runs.Select(r => r.Info.RunId), Is.EqualTo(new[] { "a1", "a2", "b1", "c1" }));
        var bodies = server.Requests.Select(r => JsonNode.Parse(r.RequestMessage.Body!)!).ToList();
        Assert.That(bodies, Has.Count.EqualTo(3));
        Assert.That(bodies.Select(b => b["page_token"]?.GetValue<string>()), Is.EqualTo(new[] { null, "p2", "p3" }));
        Assert.That(bodies.Select(b => b["max_results"]!.GetValue<int>()), Is.All.EqualTo(2));
        Assert.That(bodies.Select(b => b["experiment_ids"]!.ToJsonString()), Is.All.EqualTo("[\"1\"]"));
    }

    [Test]
    public async Task SearchAllExperiments_FollowsTokens_AndStopsOnLastPage()
    {
        const string path = "/api/2.0/mlflow/experiments/search";
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(path).UsingPost()).AtPriority(10)
            .RespondWith(Json("""{"experiments":[{"experiment_id":"1","name":"a","lifecycle_stage":"active"}],"next_page_token":"n2"}"""));
        server.Server.Given(Request.Create().WithPath(path).UsingPost().WithBody(new JsonPartialMatcher("""{"page_token":"n2"}"""))).AtPriority(1)
            .RespondWith(Json("""{"experiments":[{"experiment_id":"2","name":"b","lifecycle_stage":"deleted"}],"next_page_token":""}"""));
        using var client = server.CreateClient();

        var all = new List<Experiment>();
        await foreach (var e in client.SearchAllExperimentsAsync(new ExperimentSearchOptions { ViewType = ViewType.All }))
        {
            all.Add(e);
        }

        Assert.That(all.Select(e => (e.ExperimentId, e.LifecycleStage)), Is.EqualTo(new[] { ("1", LifecycleStage.Active), ("2", LifecycleStage.Deleted) }));
        Assert.That(server.Requests, Has.Count.EqualTo(2), "an empty next_page_token ends the paging");
        Assert.That(JsonNode.Parse(server.Requests[0].RequestMessage.Body!)!["view_type"]!.GetValue<string>(), Is.EqualTo("ALL"));
    }

    [TestCase("rest")]
    [TestCase("rest-file-backend")]
    public async Task GetExperimentByName_ReturnsNullOn404(string folder)
    {
        var fixture = RestFixture.Load(folder, "experiments-get-by-name.not-found");
        Assert.That(fixture.Status, Is.EqualTo(404));
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        Assert.That(await client.GetExperimentByNameAsync("no-such-experiment"), Is.Null);
        Assert.That(WireAssert.Query(server.SingleRequest())["experiment_name"], Is.EqualTo(new[] { "no-such-experiment" }));
    }

    [Test]
    public void GetExperimentByName_OtherErrorsStillThrow()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody("""{"error_code":"INTERNAL_ERROR","message":"boom"}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentByNameAsync("x"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InternalError));
    }

    private static string RunsPage(string[] ids, string? token)
    {
        var runs = new JsonArray(ids.Select(id => (JsonNode)new JsonObject
        {
            ["info"] = new JsonObject { ["run_id"] = id, ["run_uuid"] = id, ["experiment_id"] = "1", ["status"] = "RUNNING", ["lifecycle_stage"] = "active" },
        }).ToArray());
        var page = new JsonObject { ["runs"] = runs };
        if (token is not null)
        {
            page["next_page_token"] = token;
        }

        return page.ToJsonString();
    }

    private static void AnswerEmpty(FixtureServer server, string path)
        => server.Server.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(Json("{}"));

    private static IResponseBuilder Json(string body)
        => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body);
}
