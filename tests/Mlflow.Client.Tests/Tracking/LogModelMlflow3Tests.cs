using System.Text.Json.Nodes;
using Mlflow.Client.Store;
using Mlflow.Client.Tests.Artifacts;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.Logging;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>
/// <see cref="ActiveRun.LogModel"/> against a WireMock tracking server: on MLflow 3 the call sequence of 3.11.1's
/// Python <c>Model.log</c> (create, runs/outputs, the step's metrics linked, upload to the logged model's location,
/// finalize READY, or FAILED when the upload fails); on MLflow 2 the run-artifact way; the server asked once.
/// </summary>
[TestFixture]
public class LogModelMlflow3Tests
{
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private const string ModelId = "m-c46a5f233b134ff5a731845e1a6ea485";
    private const string ModelRoot = "mlflow-artifacts:/0/models/" + ModelId + "/artifacts";
    private const string ModelUpload = "/api/2.0/mlflow-artifacts/artifacts/0/models/" + ModelId + "/artifacts/";
    private const string RunUpload = "/api/2.0/mlflow-artifacts/artifacts/0/" + RunId + "/artifacts/";

    private FixtureServer _server = null!;

    [SetUp]
    public void SetUp() => _server = FixtureServer.Start();

    [TearDown]
    public void TearDown() => _server.Dispose();

    private void Json(string path, string method, string body, int status = 200, int priority = 5)
        => _server.Server.Given(Request.Create().WithPath(path).UsingMethod(method)).AtPriority(priority)
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body));

    /// <summary>A server of <paramref name="version"/> with one run (metric <c>acc</c> at steps 0 and 1), one logged model and the artifact proxy.</summary>
    private void ServeTrackingServer(string version, int uploadStatus = 200)
    {
        _server.Server.Given(Request.Create().WithPath("/version").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/html").WithBody(version));
        Json("/api/3.0/mlflow/server-info", "GET", """{"store_type":"SqlStore","workspaces_enabled":false}""");
        var info = $$"""{"run_id":"{{RunId}}","run_uuid":"{{RunId}}","experiment_id":"0","run_name":"r","status":"RUNNING","start_time":1,"artifact_uri":"mlflow-artifacts:/0/{{RunId}}/artifacts","lifecycle_stage":"active"}""";
        Json("/api/2.0/mlflow/runs/create", "POST", """{"run":{"info":""" + info + ""","data":{}}}""");
        Json("/api/2.0/mlflow/runs/get", "GET", """{"run":{"info":""" + info + ""","data":{"metrics":[{"key":"acc","value":0.75,"timestamp":10,"step":1}],"params":[{"key":"lr","value":"0.1"}]}}}""");
        Json("/api/2.0/mlflow/metrics/get-history", "GET", """{"metrics":[{"key":"acc","value":0.5,"timestamp":5,"step":0},{"key":"acc","value":0.75,"timestamp":10,"step":1}]}""");
        Json("/api/2.0/mlflow/runs/log-batch", "POST", "{}");
        Json("/api/2.0/mlflow/runs/update", "POST", $$"""{"run_info":{{info}}}""");
        Json("/api/2.0/mlflow/runs/outputs", "POST", "{}");
        var model = $"{{\"model\":{{\"info\":{{\"model_id\":\"{ModelId}\",\"experiment_id\":\"0\",\"name\":\"model\",\"artifact_uri\":\"{ModelRoot}\",\"status\":\"LOGGED_MODEL_PENDING\",\"source_run_id\":\"{RunId}\"}},\"data\":{{}}}}}}";
        Json("/api/2.0/mlflow/logged-models", "POST", model);
        Json("/api/2.0/mlflow/logged-models/" + ModelId, "PATCH", model.Replace("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", StringComparison.Ordinal));
        _server.Server.Given(Request.Create().WithPath(new WildcardMatcher("/api/2.0/mlflow-artifacts/artifacts/*")).UsingPut())
            .RespondWith(Response.Create().WithStatusCode(uploadStatus).WithHeader("Content-Type", "application/json").WithBody(uploadStatus == 200 ? "{}" : """{"error_code":"INTERNAL_ERROR","message":"disk full"}"""));
        Json("/api/2.0/mlflow-artifacts/artifacts", "GET", "{}");
    }

    private MlflowTracker NewTracker()
    {
        var options = new MlflowTrackerOptions();
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        var store = new RestTrackingStore(_server.CreateClient(), ownsClient: true);
        return new MlflowTracker(store, options, null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), ownsStore: true, user: "tester");
    }

    private List<ILogEntry> Calls(string pathPrefix, string? method = null)
        => _server.Requests.Where(e => e.RequestMessage.Path.StartsWith(pathPrefix, StringComparison.Ordinal)
            && (method is null || e.RequestMessage.Method == method)).ToList();

    private static JsonNode Body(ILogEntry entry) => FixtureServer.BodyJson(entry)!;

    [Test]
    public async Task On_MLflow3_LogModel_creates_a_logged_model_links_it_uploads_to_its_location_and_finalizes_it_ready()
    {
        ServeTrackingServer("3.11.1");
        LoggedModelInfo info;
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            run.LogParam("lr", "0.1");
            run.LogMetric("acc", 0.5, step: 0);
            info = await run.LogModelAsync("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions
            {
                ModelType = "classifier",
                Params = new Dictionary<string, string> { ["lr"] = "ignored: the run's value wins", ["layers"] = "2" },
                Tags = new Dictionary<string, string> { ["team"] = "ml" },
            });
        }

        Assert.That(info.ModelId, Is.EqualTo(ModelId));
        Assert.That(info.ModelUri, Is.EqualTo("models:/" + ModelId));
        Assert.That(info.ModelUuid, Is.EqualTo(ModelId), "Python passes the model id as model_uuid");
        Assert.That(info.Flavors, Is.EqualTo(new[] { "python_function", "onnx" }));

        var create = Body(Calls("/api/2.0/mlflow/logged-models", "POST").Single());
        Assert.That((string?)create["experiment_id"], Is.EqualTo("0"));
        Assert.That((string?)create["name"], Is.EqualTo("model"));
        Assert.That((string?)create["model_type"], Is.EqualTo("classifier"));
        Assert.That((string?)create["source_run_id"], Is.EqualTo(RunId));
        var @params = create["params"]!.AsArray().ToDictionary(p => (string)p!["key"]!, p => (string)p!["value"]!);
        Assert.That(@params, Is.EqualTo(new Dictionary<string, string> { ["lr"] = "0.1", ["layers"] = "2" }));
        var tags = create["tags"]!.AsArray().ToDictionary(p => (string)p!["key"]!, p => (string)p!["value"]!);
        Assert.That(tags["team"], Is.EqualTo("ml"));
        Assert.That(tags["mlflow.user"], Is.EqualTo("tester"));
        Assert.That(tags["mlflow.source.type"], Is.EqualTo("LOCAL"));

        var outputs = Body(Calls("/api/2.0/mlflow/runs/outputs").Single());
        Assert.That(outputs.ToJsonString(), Is.EqualTo($$"""{"run_id":"{{RunId}}","models":[{"model_id":"{{ModelId}}","step":0}]}"""));

        // The run's point at step 0 is logged again with the model id (Python's log_model_metrics_for_step); step 1 is not.
        var linked = Calls("/api/2.0/mlflow/runs/log-batch").Select(Body).SelectMany(b => b["metrics"]?.AsArray() ?? []).Where(m => m!["model_id"] is not null).ToList();
        Assert.That(linked.Select(m => m!.ToJsonString()), Is.EqualTo(new[] { $$"""{"key":"acc","value":0.5,"timestamp":5,"step":0,"model_id":"{{ModelId}}"}""" }));

        var uploads = Calls("/api/2.0/mlflow-artifacts/artifacts/", "PUT");
        Assert.That(uploads.Select(u => u.RequestMessage.Path).Order(StringComparer.Ordinal), Is.EqualTo(new[] { ModelUpload + "MLmodel", ModelUpload + "model.onnx" }));
        Assert.That(Calls(RunUpload), Is.Empty, "MLflow 3.11.1 writes no copy under the run's artifacts");
        var mlmodel = uploads.Single(u => u.RequestMessage.Path.EndsWith("MLmodel", StringComparison.Ordinal)).RequestMessage.Body!;
        Assert.That(mlmodel, Does.Contain("model_id: " + ModelId + "\n"));
        Assert.That(mlmodel, Does.Contain("model_uuid: " + ModelId + "\n"));
        Assert.That(mlmodel, Does.Contain("artifact_path: " + ModelRoot + "\n"));
        Assert.That(mlmodel, Does.Contain("run_id: " + RunId + "\n"));
        Assert.That(mlmodel, Does.Contain("mlflow_version: 3.11.1\n"));

        var finalize = Calls("/api/2.0/mlflow/logged-models/" + ModelId, "PATCH").Single();
        Assert.That(Body(finalize).ToJsonString(), Is.EqualTo($$"""{"model_id":"{{ModelId}}","status":"LOGGED_MODEL_READY"}"""));
        Assert.That(Calls("/api/2.0/mlflow/runs/log-batch").Select(e => e.RequestMessage.Body), Has.None.Contains("mlflow.log-model.history"));

        // Python's order: create, outputs, the metrics linked, the files, finalize.
        var order = _server.Requests.Select(e => e.RequestMessage.Path).ToList();
        var createAt = order.IndexOf("/api/2.0/mlflow/logged-models");
        var outputsAt = order.IndexOf("/api/2.0/mlflow/runs/outputs");
        var firstUploadAt = order.FindIndex(p => p.StartsWith(ModelUpload, StringComparison.Ordinal));
        var finalizeAt = order.IndexOf("/api/2.0/mlflow/logged-models/" + ModelId);
        Assert.That(new[] { createAt, outputsAt, firstUploadAt, finalizeAt }, Is.Ordered.And.All.GreaterThanOrEqualTo(0));
    }

    [Test]
    public async Task The_server_version_is_asked_once_per_tracker_however_many_models_are_logged()
    {
        ServeTrackingServer("3.11.1");
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            run.LogModel("a", RunTablesModelsTests.TinyOnnx);
            run.LogModel("b", RunTablesModelsTests.TinyOnnx);
            await using var second = tracker.StartRun("r2");
            second.LogModel("c", RunTablesModelsTests.TinyOnnx);
        }

        Assert.That(Calls("/version"), Has.Count.EqualTo(1));
        Assert.That(Calls("/api/3.0/mlflow/server-info"), Has.Count.EqualTo(1));
        Assert.That(Calls("/api/2.0/mlflow/logged-models", "POST").Select(e => (string?)Body(e)["name"]), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public async Task A_failed_upload_finalizes_the_model_failed_and_the_error_reaches_the_caller()
    {
        ServeTrackingServer("3.11.1", uploadStatus: 500);
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            var ex = Assert.ThrowsAsync<MlflowException>(() => run.LogModelAsync("model", RunTablesModelsTests.TinyOnnx));
            Assert.That(ex!.Message, Does.Contain("disk full"));
        }

        var finalize = Calls("/api/2.0/mlflow/logged-models/" + ModelId, "PATCH");
        Assert.That(finalize.Select(f => Body(f).ToJsonString()), Is.EqualTo(new[] { $$"""{"model_id":"{{ModelId}}","status":"LOGGED_MODEL_UPLOAD_FAILED"}""" }));
    }

    [Test]
    public async Task A_failed_finalize_ready_marks_the_model_failed_instead_of_leaving_it_pending()
    {
        ServeTrackingServer("3.11.1");
        _server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/logged-models/" + ModelId).UsingMethod("PATCH").WithBody(new WildcardMatcher("*LOGGED_MODEL_READY*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody("""{"error_code":"INTERNAL_ERROR","message":"database locked"}"""));
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            var ex = Assert.ThrowsAsync<MlflowException>(() => run.LogModelAsync("model", RunTablesModelsTests.TinyOnnx));
            Assert.That(ex!.Message, Does.Contain("database locked"));
        }

        var finalize = Calls("/api/2.0/mlflow/logged-models/" + ModelId, "PATCH");
        Assert.That(finalize.Select(f => (string?)Body(f)["status"]), Is.EqualTo(new[] { "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED" }));
    }

    [Test]
    public async Task On_MLflow2_LogModel_writes_run_artifacts_and_the_history_tag_as_before()
    {
        ServeTrackingServer("2.12.2");
        LoggedModelInfo info;
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            info = run.LogModel("model", RunTablesModelsTests.TinyOnnx);
        }

        Assert.That(info.ModelId, Is.Null);
        Assert.That(info.ModelUri, Is.EqualTo($"runs:/{RunId}/model"));
        Assert.That(Calls("/api/2.0/mlflow/logged-models"), Is.Empty);
        Assert.That(Calls("/api/2.0/mlflow/runs/outputs"), Is.Empty);
        Assert.That(Calls("/api/3.0/mlflow/server-info"), Is.Empty, "a 2.x version needs no server-info");
        Assert.That(Calls(RunUpload, "PUT").Select(u => u.RequestMessage.Path).Order(StringComparer.Ordinal), Is.EqualTo(new[] { RunUpload + "model/MLmodel", RunUpload + "model/model.onnx" }));
        Assert.That(Calls("/api/2.0/mlflow/runs/log-batch").Select(e => e.RequestMessage.Body), Has.Some.Contains("mlflow.log-model.history"));
    }

    [Test]
    public async Task A_server_that_answers_404_on_version_and_server_info_gets_the_MLflow2_way()
    {
        ServeTrackingServer("unused");
        Json("/version", "GET", "{}", status: 404, priority: 1);
        Json("/api/3.0/mlflow/server-info", "GET", "{}", status: 404, priority: 1);
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            Assert.That(run.LogModel("model", RunTablesModelsTests.TinyOnnx).ModelId, Is.Null);
        }

        Assert.That(Calls("/api/2.0/mlflow/logged-models"), Is.Empty);
        Assert.That(Calls(RunUpload, "PUT"), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task On_a_server_run_a_dataset_name_with_spaces_is_linked_as_given()
    {
        ServeTrackingServer("3.11.1");
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            run.LogMetric("f1", 0.8, ModelId, MlflowDataset.Create("eval set", "abc123", "/data/eval.csv"));
        }

        var f1 = Calls("/api/2.0/mlflow/runs/log-batch").Select(Body).SelectMany(b => b["metrics"]?.AsArray() ?? []).Single(m => (string?)m!["key"] == "f1")!;
        Assert.That((string?)f1["dataset_name"], Is.EqualTo("eval set"), "the local store's rule does not apply to a server's run");
    }

    [Test]
    public async Task A_metric_logged_with_a_model_id_and_dataset_carries_them_in_log_batch()
    {
        ServeTrackingServer("3.11.1");
        var dataset = MlflowDataset.Create("eval", "abc123", "/data/eval.csv");
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("r");
            run.LogMetric("f1", 0.8, ModelId, dataset, step: 2);
            run.LogMetrics([new("precision", 0.7), new("recall", 0.6)], ModelId);
            run.LogMetric("loss", 0.1);
            Assert.Throws<ArgumentException>(() => run.LogMetric("f1", 0.8, modelId: ""));
        }

        var metrics = Calls("/api/2.0/mlflow/runs/log-batch").Select(Body).SelectMany(b => b["metrics"]?.AsArray() ?? []).ToDictionary(m => (string)m!["key"]!);
        Assert.That((string?)metrics["f1"]!["model_id"], Is.EqualTo(ModelId));
        Assert.That((string?)metrics["f1"]!["dataset_name"], Is.EqualTo("eval"));
        Assert.That((string?)metrics["f1"]!["dataset_digest"], Is.EqualTo("abc123"));
        Assert.That((long?)metrics["f1"]!["step"], Is.EqualTo(2));
        Assert.That((string?)metrics["precision"]!["model_id"], Is.EqualTo(ModelId));
        Assert.That(metrics["precision"]!["dataset_name"], Is.Null);
        Assert.That((string?)metrics["recall"]!["model_id"], Is.EqualTo(ModelId));
        Assert.That(metrics["loss"]!["model_id"], Is.Null, "a plain point sends no MLflow 3 field");
    }

    [Test]
    public async Task Registering_the_run_path_of_a_logged_model_registers_models_m_id_with_its_model_id()
    {
        ServeTrackingServer("3.11.1");
        Json("/api/2.0/mlflow/logged-models/search", "POST", """{"models":[{"info":{"model_id":"m-other","name":"model","source_run_id":"another-run"}},{"info":{"model_id":"MID","name":"model","source_run_id":"RID"}}]}""".Replace("MID", ModelId, StringComparison.Ordinal).Replace("RID", RunId, StringComparison.Ordinal));
        Json("/api/2.0/mlflow/registered-models/create", "POST", """{"registered_model":{"name":"clf"}}""");
        Json("/api/2.0/mlflow/model-versions/create", "POST", """{"model_version":{"name":"clf","version":"1","status":"READY"}}""");
        await using (var tracker = NewTracker())
        {
            var version = await tracker.Registry.RegisterModelAsync(RunId, "model", "clf", new RegisterModelOptions { AwaitReadyTimeout = TimeSpan.Zero });
            Assert.That(version.Version, Is.EqualTo("1"));
            await tracker.Registry.RegisterModelAsync("models:/" + ModelId, "clf", new RegisterModelOptions { AwaitReadyTimeout = TimeSpan.Zero });
        }

        var search = Body(Calls("/api/2.0/mlflow/logged-models/search").Single());
        Assert.That((string?)search["filter"], Is.EqualTo("name = 'model'"));
        var creates = Calls("/api/2.0/mlflow/model-versions/create").Select(Body).ToList();
        Assert.That(creates.Select(c => c.ToJsonString()), Is.EqualTo(new[]
        {
            $$"""{"name":"clf","source":"models:/{{ModelId}}","run_id":"{{RunId}}","tags":[],"model_id":"{{ModelId}}"}""",
            $$"""{"name":"clf","source":"models:/{{ModelId}}","tags":[],"model_id":"{{ModelId}}"}""",
        }));
    }

    [Test]
    public async Task Registering_a_run_path_that_holds_an_MLmodel_keeps_the_run_artifacts_as_source()
    {
        ServeTrackingServer("3.11.1");
        Json("/api/2.0/mlflow-artifacts/artifacts", "GET", """{"files":[{"path":"MLmodel","is_dir":false,"file_size":10}]}""", priority: 1);
        Json("/api/2.0/mlflow/registered-models/create", "POST", """{"registered_model":{"name":"clf"}}""");
        Json("/api/2.0/mlflow/model-versions/create", "POST", """{"model_version":{"name":"clf","version":"1","status":"READY"}}""");
        await using (var tracker = NewTracker())
        {
            await tracker.Registry.RegisterModelAsync(RunId, "model", "clf", new RegisterModelOptions { AwaitReadyTimeout = TimeSpan.Zero });
        }

        Assert.That(Calls("/api/2.0/mlflow/logged-models/search"), Is.Empty);
        var create = Body(Calls("/api/2.0/mlflow/model-versions/create").Single());
        Assert.That(create.ToJsonString(), Is.EqualTo($$"""{"name":"clf","source":"mlflow-artifacts:/0/{{RunId}}/artifacts/model","run_id":"{{RunId}}","tags":[]}"""));
    }
}
