using Mlflow.Client.Comparison;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Comparison;

public sealed class RunTableTests
{
    [Test]
    public async Task A_local_store_search_with_filter_and_order_gives_one_row_per_run_and_empty_cells_for_missing_values()
    {
        using var dir = new OfflineFallbackTests.Dir();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "cmp" });
        string r1, r2;
        await using (var run = tracker.StartRun("small-lr", [new("team", "a")]))
        {
            r1 = run.RunId;
            run.LogParam("lr", 0.1);
            run.LogMetric("f1", 0.8, step: 0);
            run.LogMetric("f1", 0.85, step: 1);
        }

        await using (var run = tracker.StartRun("big-lr"))
        {
            r2 = run.RunId;
            run.LogParam("lr", 0.01);
            run.LogMetric("f1", 0.9);
            run.LogMetric("loss", 0.2);
        }

        await using (var run = tracker.StartRun("no-metrics"))
        {
            run.LogParam("lr", 1);
        }

        var table = await tracker.SearchRunsAsync(new RunQuery { ExperimentNames = ["cmp"], Filter = "metrics.f1 > 0.5", OrderBy = ["metrics.f1 DESC"], TagKeys = ["team"] });

        Assert.That(table.Rows.Select(r => r.RunId), Is.EqualTo(new[] { r2, r1 }));
        Assert.That(table.Columns, Is.EqualTo(new[] { "run_id", "run_name", "status", "start_time", "end_time", "params.lr", "metrics.f1", "metrics.loss", "tags.team" }));
        var first = table.Rows[0];
        var second = table.Rows[1];
        Assert.That(RunTable.Cell(second, "metrics.f1"), Is.EqualTo("0.85"), "the latest value (greatest step)");
        Assert.That(RunTable.Cell(second, "metrics.loss"), Is.Empty, "missing is empty, not 0");
        Assert.That(RunTable.Cell(first, "tags.team"), Is.Empty);
        Assert.That(RunTable.Cell(second, "tags.team"), Is.EqualTo("a"));
        Assert.That(RunTable.Cell(first, "run_name"), Is.EqualTo("big-lr"));
        Assert.That(RunTable.Cell(first, "status"), Is.EqualTo("FINISHED"));
        Assert.That(RunTable.Cell(first, "start_time"), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
        Assert.That(table.Best("f1")!.RunId, Is.EqualTo(r2));
        Assert.That(table.Best("f1", MetricGoal.Minimize)!.RunId, Is.EqualTo(r1));
        Assert.That(table.Best("absent"), Is.Null);

        var all = tracker.SearchRuns(new RunQuery { ExperimentNames = ["cmp"] });
        Assert.That(all.Rows, Has.Count.EqualTo(3));
        Assert.That(RunTable.Cell(all.Rows.Single(r => r.RunName == "no-metrics"), "metrics.f1"), Is.Empty);
    }

    [Test]
    public void An_unknown_experiment_is_an_error_not_an_empty_table()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "cmp" });

        var ex = Assert.ThrowsAsync<MlflowException>(() => tracker.SearchRunsAsync(new RunQuery { ExperimentNames = ["nope"] }));
        Assert.That(ex!.Message, Does.Contain("No experiment named 'nope'"));
        Assert.That((ex.ErrorCode, ex.RawErrorCode, ex.Kind), Is.EqualTo((MlflowErrorCode.ResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", MlflowFailureKind.Rejected)));
    }

    [Test]
    public void An_unknown_experiment_on_a_server_is_resource_does_not_exist()
    {
        using var server = new FakeMlflowServer();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url });

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.SearchRunTableAsync(new RunQuery { ExperimentNames = ["nope"] }));
        Assert.That(ex!.Message, Does.Contain("No experiment named 'nope'"));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(ex.IsTransient, Is.False);
    }

    [Test]
    public async Task A_query_naming_no_experiment_searches_the_trackers_active_one_as_python_search_runs_does()
    {
        // Python's search_runs() with no experiment ids reads the active experiment (issue 21 item 10).
        using var dir = new OfflineFallbackTests.Dir();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "cmp", WarningsToStandardError = false });

        var notYet = Assert.ThrowsAsync<MlflowException>(() => tracker.SearchRunsAsync(new RunQuery()));
        Assert.That(notYet!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(notYet.Message, Does.Contain("'cmp'"));
        var metas = Directory.Exists(dir.Path) ? Directory.GetFiles(dir.Path, "meta.yaml", SearchOption.AllDirectories) : [];
        Assert.That(metas.Where(f => File.ReadAllText(f).Contains("name: cmp", StringComparison.Ordinal)), Is.Empty, "a search does not create the experiment");

        string inCmp;
        await using (var run = tracker.StartRun("in-cmp"))
        {
            inCmp = run.RunId;
            run.LogMetric("f1", 0.9);
        }

        tracker.SetExperiment("other");
        await using (var run = tracker.StartRun("in-other"))
        {
            run.LogMetric("f1", 0.1);
        }

        var active = await tracker.SearchRunsAsync(new RunQuery { Filter = "metrics.f1 > 0.5" });
        Assert.That(active.Rows, Is.Empty, "the active experiment is now 'other', whose run has f1 0.1");
        Assert.That(tracker.SearchRuns(new RunQuery()).Rows.Select(r => r.RunName), Is.EqualTo(new[] { "in-other" }));
        Assert.That(tracker.SearchRuns(new RunQuery { ExperimentNames = ["cmp"] }).Rows.Select(r => r.RunId), Is.EqualTo(new[] { inCmp }), "names still win");
    }

    [Test]
    public void A_client_has_no_active_experiment_so_a_query_must_name_one()
    {
        using var server = new FakeMlflowServer();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url });

        var ex = Assert.ThrowsAsync<ArgumentException>(() => client.SearchRunTableAsync(new RunQuery()));
        Assert.That(ex!.Message, Does.Contain("RunQuery.ExperimentNames").And.Contain("MlflowTracker.SearchRuns"));
    }

    [Test]
    public void Csv_quotes_fields_as_rfc_4180()
    {
        var table = RunTable.FromRuns(
        [
            Run("r1", "plain", ("metric", 1.5), [("note", "a,b")]),
            Run("r2", "say \"hi\"\nthere", ("metric", double.NaN), [("note", "ok")]),
        ]);

        var csv = table.ToCsv();

        Assert.That(csv, Is.EqualTo(
            "run_id,run_name,status,start_time,end_time,params.note,metrics.metric\r\n" +
            "r1,plain,FINISHED,1970-01-01T00:00:01.000Z,,\"a,b\",1.5\r\n" +
            "r2,\"say \"\"hi\"\"\nthere\",FINISHED,1970-01-01T00:00:01.000Z,,ok,NaN\r\n"));
        Assert.That(table.Best("metric")!.RunId, Is.EqualTo("r1"), "NaN never wins");
    }

    [Test]
    public async Task A_server_search_resolves_experiment_names_and_follows_pages()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/experiments/get-by-name").WithParam("experiment_name", "a").UsingGet())
            .RespondWith(Response.Create().WithBody("{\"experiment\":{\"experiment_id\":\"11\",\"name\":\"a\"}}"));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/experiments/get-by-name").WithParam("experiment_name", "b").UsingGet())
            .RespondWith(Response.Create().WithBody("{\"experiment\":{\"experiment_id\":\"12\",\"name\":\"b\"}}"));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/search").UsingPost().WithBody(b => b != null && !b.Contains("page_token", StringComparison.Ordinal)))
            .RespondWith(Response.Create().WithBody(RunsJson("r1", 0.7) + ",\"next_page_token\":\"p2\"}"));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/search").UsingPost().WithBody(b => b != null && b.Contains("\"page_token\":\"p2\"", StringComparison.Ordinal)))
            .RespondWith(Response.Create().WithBody(RunsJson("r2", 0.9) + "}"));
        using var client = server.CreateClient();

        var table = await client.SearchRunTableAsync(new RunQuery { ExperimentNames = ["a", "b"], Filter = "params.model = 'bert'", OrderBy = ["metrics.acc DESC"] });

        Assert.That(table.Rows.Select(r => r.RunId), Is.EqualTo(new[] { "r1", "r2" }));
        Assert.That(table.Best("acc")!.RunId, Is.EqualTo("r2"));
        var search = server.Requests.First(e => e.RequestMessage.Path.EndsWith("runs/search", StringComparison.Ordinal));
        var body = FixtureServer.BodyJson(search)!;
        Assert.That(body["experiment_ids"]!.ToJsonString(), Is.EqualTo("[\"11\",\"12\"]"));
        Assert.That((string?)body["filter"], Is.EqualTo("params.model = 'bert'"));
        Assert.That(body["order_by"]!.ToJsonString(), Is.EqualTo("[\"metrics.acc DESC\"]"));
    }

    internal static Run Run(string id, string? name, (string Key, double Value) metric, (string Key, string Value)[] @params, long start = 1000)
        => new()
        {
            Info = new RunInfo { RunId = id, RunName = name, ExperimentId = "1", Status = RunStatus.Finished, StartTime = start },
            Data = new RunData
            {
                Metrics = [new Metric(metric.Key, metric.Value, start)],
                Params = @params.Select(p => new Param(p.Key, p.Value)).ToList(),
            },
        };

    private static string RunsJson(string id, double acc)
        => "{\"runs\":[{\"info\":{\"run_id\":\"" + id + "\",\"experiment_id\":\"11\",\"status\":\"FINISHED\",\"start_time\":1000},\"data\":{\"metrics\":[{\"key\":\"acc\",\"value\":" + acc.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"timestamp\":1,\"step\":0}]}}]";
}
