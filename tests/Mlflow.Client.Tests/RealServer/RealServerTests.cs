using System.Net;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// End-to-end scenarios against a real MLflow tracking server, sqlite- or file-backed. They run only when
/// <c>MLFLOW_TEST_TRACKING_URI</c> is set (for example <c>http://127.0.0.1:5061</c>) and are ignored otherwise.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class RealServerTests
{
    private const string UriVariable = "MLFLOW_TEST_TRACKING_URI";
    private MlflowClient _client = null!;
    private string _prefix = null!;

    [SetUp]
    public void SetUp()
    {
        var uri = Environment.GetEnvironmentVariable(UriVariable);
        if (string.IsNullOrWhiteSpace(uri))
        {
            Assert.Ignore($"{UriVariable} is not set: no real MLflow server to test against (start one and set it to http://host:port).");
        }

        _client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri, RequestTimeout = TimeSpan.FromSeconds(30) });
        _prefix = "dotnet-it-" + Guid.NewGuid().ToString("N")[..12];
    }

    [TearDown]
    public void TearDown() => _client?.Dispose();

    [Test]
    public async Task Experiment_Lifecycle()
    {
        var name = _prefix + "-exp";
        var id = await _client.CreateExperimentAsync(name, tags: [new Tag("team", "dotnet")]);
        Assert.That(id, Is.Not.Empty.And.Match("^[0-9]+$"));

        var byId = await _client.GetExperimentAsync(id);
        Assert.That(byId.Name, Is.EqualTo(name));
        Assert.That(byId.LifecycleStage, Is.EqualTo(LifecycleStage.Active));
        Assert.That(byId.Tags, Does.Contain(new Tag("team", "dotnet")));

        var byName = await _client.GetExperimentByNameAsync(name);
        Assert.That(byName?.ExperimentId, Is.EqualTo(id));
        Assert.That(await _client.GetExperimentByNameAsync(_prefix + "-missing"), Is.Null);

        var found = await _client.SearchExperimentsAsync(new ExperimentSearchOptions { Filter = $"name = '{name}'" });
        Assert.That(found.Items.Select(e => e.ExperimentId), Is.EqualTo(new[] { id }));

        var renamed = name + "-renamed";
        await _client.RenameExperimentAsync(id, renamed);
        await _client.SetExperimentTagAsync(id, "mlflow.note.content", "notes");
        var after = await _client.GetExperimentAsync(id);
        Assert.That(after.Name, Is.EqualTo(renamed));
        Assert.That(after.Tags, Does.Contain(new Tag("mlflow.note.content", "notes")));

        await _client.DeleteExperimentAsync(id);
        Assert.That((await _client.GetExperimentAsync(id)).LifecycleStage, Is.EqualTo(LifecycleStage.Deleted));
        var deleted = new List<Experiment>();
        await foreach (var e in _client.SearchAllExperimentsAsync(new ExperimentSearchOptions { ViewType = ViewType.DeletedOnly, Filter = $"name = '{renamed}'", MaxResults = 1 }))
        {
            deleted.Add(e);
        }

        Assert.That(deleted.Select(e => e.ExperimentId), Is.EqualTo(new[] { id }));

        await _client.RestoreExperimentAsync(id);
        Assert.That((await _client.GetExperimentAsync(id)).LifecycleStage, Is.EqualTo(LifecycleStage.Active));

        var dup = Assert.ThrowsAsync<MlflowException>(() => _client.CreateExperimentAsync(renamed));
        Assert.That(dup!.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(dup.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists));
    }

    [Test]
    public async Task Run_Lifecycle_WithMetricsParamsTags()
    {
        var experimentId = await _client.CreateExperimentAsync(_prefix + "-runs");
        var run = await _client.CreateRunAsync(experimentId, "first", 1_700_000_000_000, [new Tag("stage", "dev")], "alice");
        var runId = run.Info.RunId;
        Assert.That(runId, Does.Match("^[0-9a-f]{32}$"));
        Assert.That(run.Info.Status, Is.EqualTo(RunStatus.Running));
        Assert.That(run.Info.RunName, Is.EqualTo("first"));
        Assert.That(run.Info.ExperimentId, Is.EqualTo(experimentId));

        await _client.LogParamAsync(runId, "lr", "5e-05");
        await _client.LogParamAsync(runId, "lr", "5e-05"); // same value again is fine
        await _client.LogMetricAsync(runId, "loss", 0.75, 1_700_000_000_001, 0);
        await _client.LogMetricAsync(runId, "loss", double.NaN, 1_700_000_000_002, 1);
        await _client.LogMetricAsync(runId, "loss", double.PositiveInfinity, 1_700_000_000_003, 2);
        await _client.LogMetricAsync(runId, "loss", double.NegativeInfinity, 1_700_000_000_004, 3);
        await _client.LogMetricAsync(runId, "acc", 0.8, 1_700_000_000_005, 9_007_199_254_740_993);
        await _client.LogBatchAsync(runId,
            [new Metric("batch", double.NaN, 1_700_000_000_010, 0), new Metric("batch", double.PositiveInfinity, 1_700_000_000_011, 1), new Metric("batch", -1.5, 1_700_000_000_012, -3)],
            [new Param("batch_size", "32"), new Param("opt/adam beta-1.v_2", "0.9")],
            [new Tag("model_family", "bert")]);

        var loss = await _client.GetMetricHistoryAsync(runId, "loss");
        Assert.That(loss.OrderBy(p => p.Step).Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, 2, 3 }));
        var byStep = loss.ToDictionary(p => p.Step, p => p.Value);
        Assert.That(byStep[0], Is.EqualTo(0.75));
        Assert.That(double.IsNaN(byStep[1]), Is.True);
        Assert.That(byStep[2], Is.EqualTo(double.PositiveInfinity).Or.EqualTo(double.MaxValue), "file: Infinity, sqlite: DBL_MAX");
        Assert.That(byStep[3], Is.EqualTo(double.NegativeInfinity).Or.EqualTo(double.MinValue));

        var acc = await _client.GetMetricHistoryAsync(runId, "acc");
        Assert.That(acc.Single().Step, Is.EqualTo(9_007_199_254_740_993L), "int64 step exact");

        var batch = await _client.GetMetricHistoryAsync(runId, "batch");
        Assert.That(batch.OrderBy(p => p.Timestamp).Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, -3 }));
        Assert.That(double.IsNaN(batch.Single(p => p.Step == 0).Value), Is.True);
        Assert.That(await _client.GetMetricHistoryAsync(runId, "never_logged"), Is.Empty);

        var got = await _client.GetRunAsync(runId);
        Assert.That(got.Data.Params, Is.EquivalentTo(new[] { new Param("lr", "5e-05"), new Param("batch_size", "32"), new Param("opt/adam beta-1.v_2", "0.9") }));
        Assert.That(got.Data.Tags, Does.Contain(new Tag("stage", "dev")).And.Contain(new Tag("model_family", "bert")));
        Assert.That(got.Data.Metrics.Select(m => m.Key), Is.EquivalentTo(new[] { "loss", "acc", "batch" }), "latest value per key");
        Assert.That(got.Data.Metrics.Single(m => m.Key == "acc").Step, Is.EqualTo(9_007_199_254_740_993L));
        Assert.That(got.Info.UserId, Is.EqualTo("alice"));

        var search = await _client.SearchRunsAsync(new RunSearchOptions
        {
            ExperimentIds = [experimentId],
            Filter = "params.lr = '5e-05' and tags.stage = 'dev'",
            OrderBy = ["attributes.start_time DESC"],
        });
        Assert.That(search.Items.Select(r => r.Info.RunId), Is.EqualTo(new[] { runId }));
        var none = await _client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experimentId], Filter = "params.nonexistent = 'x'" });
        Assert.That(none.Items, Is.Empty);
        Assert.That(none.NextPageToken, Is.Null);

        await _client.SetTagAsync(runId, "temp", "x");
        await _client.DeleteTagAsync(runId, "temp");
        Assert.That((await _client.GetRunAsync(runId)).Data.Tags.Select(t => t.Key), Does.Not.Contain("temp"));
        var missingTag = Assert.ThrowsAsync<MlflowException>(() => _client.DeleteTagAsync(runId, "temp"));
        Assert.That(missingTag!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        var info = await _client.UpdateRunAsync(runId, RunStatus.Finished, 1_700_000_000_300);
        Assert.That(info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(info.EndTime, Is.EqualTo(1_700_000_000_300));
        var renamed = await _client.UpdateRunAsync(runId, runName: "first-renamed");
        Assert.That(renamed.RunName, Is.EqualTo("first-renamed"));
        Assert.That(renamed.Status, Is.EqualTo(RunStatus.Finished), "a rename keeps the status");

        await _client.DeleteRunAsync(runId);
        await _client.DeleteRunAsync(runId); // deleting twice is fine
        Assert.That((await _client.GetRunAsync(runId)).Info.LifecycleStage, Is.EqualTo(LifecycleStage.Deleted));
        var deletedOnly = await _client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experimentId], ViewType = ViewType.DeletedOnly });
        Assert.That(deletedOnly.Items.Select(r => r.Info.RunId), Is.EqualTo(new[] { runId }));
        var toDeleted = Assert.ThrowsAsync<MlflowException>(() => _client.LogMetricAsync(runId, "late", 1.0, 1_700_000_000_400));
        Assert.That(toDeleted!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));

        await _client.RestoreRunAsync(runId);
        Assert.That((await _client.GetRunAsync(runId)).Info.LifecycleStage, Is.EqualTo(LifecycleStage.Active));
    }

    [Test]
    public async Task SearchAllRuns_PagesThroughEveryRun()
    {
        var experimentId = await _client.CreateExperimentAsync(_prefix + "-paging");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await _client.CreateRunAsync(experimentId, "r" + i, 1_700_000_000_000 + i)).Info.RunId);
        }

        var seen = new List<string>();
        await foreach (var run in _client.SearchAllRunsAsync(new RunSearchOptions { ExperimentIds = [experimentId], MaxResults = 2 }))
        {
            seen.Add(run.Info.RunId);
            Assert.That(seen, Has.Count.LessThanOrEqualTo(10), "bounded");
        }

        Assert.That(seen, Is.EquivalentTo(ids));
    }

    [Test]
    public async Task ParamConflict_Is400InvalidParameterValue()
    {
        var experimentId = await _client.CreateExperimentAsync(_prefix + "-conflict");
        var runId = (await _client.CreateRunAsync(experimentId)).Info.RunId;
        await _client.LogParamAsync(runId, "lr", "0.1");

        var ex = Assert.ThrowsAsync<MlflowException>(() => _client.LogParamAsync(runId, "lr", "0.2"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(ex.RawErrorCode, Is.EqualTo("INVALID_PARAMETER_VALUE"));
        Assert.That(ex.Method, Is.EqualTo("POST"));
        Assert.That(ex.Path, Is.EqualTo("/api/2.0/mlflow/runs/log-parameter"));
        Assert.That(ex.ServerMessage, Is.Not.Empty);
    }

    [Test]
    public void UnknownRun_Is404ResourceDoesNotExist()
    {
        var ex = Assert.ThrowsAsync<MlflowException>(() => _client.GetRunAsync("0123456789abcdef0123456789abcdef"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(ex.Method, Is.EqualTo("GET"));
        Assert.That(ex.Path, Is.EqualTo("/api/2.0/mlflow/runs/get"));
    }

    [Test]
    public void UnknownExperiment_Is404ResourceDoesNotExist()
    {
        var ex = Assert.ThrowsAsync<MlflowException>(() => _client.GetExperimentAsync("987654321"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }
}
