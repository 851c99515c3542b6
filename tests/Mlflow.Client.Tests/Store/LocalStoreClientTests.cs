using System.Text;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Store;

/// <summary>
/// Issue 21 item 9: <see cref="MlflowClient"/> reads runs back without a server, as Python's <c>MlflowClient</c> does on
/// a <c>file:</c> URI: runs, metric histories, experiments, artifacts and the registry of a local store, through the same
/// client type and methods as on a server; a call that needs a server says so and names the endpoint.
/// </summary>
[TestFixture]
internal sealed class LocalStoreClientTests
{
    private string _root = "";

    [SetUp]
    public void SetUp() => _root = Path.Combine(Path.GetTempPath(), "mlflow-local-client", Guid.NewGuid().ToString("N"), "mlruns");

    [TearDown]
    public void TearDown()
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(_root)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A run logged by the tracker to the local store: a param, 5 points of a metric, a text artifact, a registered model with an alias.</summary>
    private async Task<string> LogRunAsync()
    {
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _root, ExperimentName = "local-read" });
        string runId;
        await using (var run = tracker.StartRun("trainer"))
        {
            runId = run.RunId;
            run.LogParam("lr", 0.01);
            for (var step = 0; step < 5; step++)
            {
                run.LogMetric("loss", 1.0 / (step + 1), step);
            }

            run.LogText("hello from the run", "notes/hello.txt");
            run.LogText("model bytes", "model/MLmodel");
        }

        var registry = tracker.Registry;
        await registry.RegisterModelAsync(runId, "model", "local-model");
        await registry.SetAliasAsync("local-model", "champion", "1");
        return runId;
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_path_or_file_uri_reads_runs_histories_experiments_artifacts_and_the_registry(bool fileUri)
    {
        var runId = await LogRunAsync();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = fileUri ? new Uri(_root).AbsoluteUri : _root });
        Assert.That(client.IsLocal, Is.True);
        Assert.That(client.TrackingUri.IsFile, Is.True);

        var experiment = await client.GetExperimentByNameAsync("local-read");
        Assert.That(experiment, Is.Not.Null);
        Assert.That((await client.GetExperimentAsync(experiment!.ExperimentId)).Name, Is.EqualTo("local-read"));
        Assert.That(await client.GetExperimentByNameAsync("no-such-experiment"), Is.Null);
        var names = new List<string>();
        await foreach (var e in client.SearchAllExperimentsAsync())
        {
            names.Add(e.Name);
        }

        Assert.That(names, Does.Contain("local-read"));

        var runs = await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment.ExperimentId], Filter = "params.lr = '0.01'" });
        Assert.That(runs.Items.Select(r => r.Info.RunId), Is.EqualTo(new[] { runId }));
        var run = await client.GetRunAsync(runId);
        Assert.That(run.Info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(run.Data.Params.Single(p => p.Key == "lr").Value, Is.EqualTo("0.01"));
        Assert.That(run.Data.Metrics.Single(m => m.Key == "loss").Value, Is.EqualTo(0.2), "the latest point");
        var history = await client.GetMetricHistoryAsync(runId, "loss");
        Assert.That(history.Select(m => m.Step), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.That(history.Select(m => m.Value), Is.EqualTo(Enumerable.Range(1, 5).Select(i => 1.0 / i)));

        var listed = await client.ListArtifactsAsync(runId, "notes");
        Assert.That(listed.Select(a => a.Path), Is.EqualTo(new[] { "notes/hello.txt" }));
        await using (var stream = await client.DownloadRunArtifactAsync(runId, "notes/hello.txt"))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            Assert.That(await reader.ReadToEndAsync(), Is.EqualTo("hello from the run"));
        }

        var model = await client.GetRegisteredModelAsync("local-model");
        Assert.That(model.Name, Is.EqualTo("local-model"));
        var champion = await client.GetModelVersionByAliasAsync("local-model", "champion");
        Assert.That((champion.Version, champion.RunId), Is.EqualTo(("1", runId)));
        Assert.That((await client.GetModelVersionAsync("local-model", "1")).Source, Is.EqualTo(champion.Source));
        Assert.That((await client.GetLatestModelVersionsAsync("local-model")).Select(v => v.Version), Is.EqualTo(new[] { "1" }));
        Assert.That(await client.GetModelVersionDownloadUriAsync("local-model", "1"), Is.EqualTo(champion.Source));
    }

    [Test]
    public async Task An_unknown_run_is_ResourceDoesNotExist_as_on_a_server()
    {
        await LogRunAsync();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _root });
        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("0123456789abcdef0123456789abcdef"))!;
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public async Task A_call_that_needs_a_server_is_refused_naming_the_endpoint_and_nothing_is_written()
    {
        var runId = await LogRunAsync();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _root });
        var ex = Assert.CatchAsync<NotSupportedException>(() => client.SetTagAsync(runId, "k", "v"))!;
        Assert.That(ex.Message, Does.Contain("runs/set-tag").And.Contain(_root).And.Contain("MlflowTracker"));
        Assert.That((await client.GetRunAsync(runId)).Data.Tags.Any(t => t.Key == "k"), Is.False);
    }

    [Test]
    public async Task A_server_call_with_an_answer_is_refused_as_NotSupported_too()
    {
        // Refit wraps the refusing handler's exception for a method with a result (Task<T>), not for one without.
        await LogRunAsync();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _root });
        var ex = Assert.CatchAsync<NotSupportedException>(() => client.CreateLoggedModelAsync("0", "m"))!;
        Assert.That(ex.Message, Does.Contain("logged-models").And.Contain(_root));
    }

    [Test]
    [NonParallelizable] // sets process environment variables
    public void No_tracking_uri_reads_MLFLOW_TRACKING_DIR_or_mlruns_like_Python()
    {
        var before = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri);
        var beforeDir = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.TrackingDir);
        try
        {
            Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri, null);
            Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.TrackingDir, _root);
            using var client = new MlflowClient();
            Assert.That(client.IsLocal, Is.True);
            Assert.That(client.TrackingUri.LocalPath.TrimEnd(Path.DirectorySeparatorChar), Is.EqualTo(Path.GetFullPath(_root)));
        }
        finally
        {
            Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri, before);
            Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.TrackingDir, beforeDir);
        }
    }

    [Test]
    public async Task Logged_models_of_the_local_store_are_read_and_listed_newest_first_and_a_filter_is_refused_not_ignored()
    {
        string experimentId;
        LoggedModelInfo first, second;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _root, ExperimentName = "local-models" }))
        {
            await using var run = tracker.StartRun("trainer");
            experimentId = run.ExperimentId;
            first = run.LogModel("first", Artifacts.RunTablesModelsTests.TinyOnnx, new MlflowModelOptions { Params = new Dictionary<string, string> { ["depth"] = "4" } });
            await Task.Delay(5); // distinct creation times
            second = run.LogModel("second", Artifacts.RunTablesModelsTests.TinyOnnx);
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _root });
        var model = await client.GetLoggedModelAsync(first.ModelId!);
        Assert.That((model.Info.Name, model.Info.Status, model.Info.ExperimentId), Is.EqualTo(("first", LoggedModelStatus.Ready, experimentId)));
        Assert.That(model.Data.Params.Single(p => p.Key == "depth").Value, Is.EqualTo("4"));
        Assert.That(async () => await client.GetLoggedModelAsync("m-00000000000000000000000000000000"),
            Throws.InstanceOf<MlflowException>().With.Property(nameof(MlflowException.ErrorCode)).EqualTo(MlflowErrorCode.ResourceDoesNotExist));

        var page1 = await client.SearchLoggedModelsAsync([experimentId], new LoggedModelSearchOptions { MaxResults = 1 });
        Assert.That(page1.Items.Select(m => m.Info.ModelId), Is.EqualTo(new[] { second.ModelId }), "newest first, as the server orders by default");
        var page2 = await client.SearchLoggedModelsAsync([experimentId], new LoggedModelSearchOptions { MaxResults = 1 }, page1.NextPageToken);
        Assert.That(page2.Items.Select(m => m.Info.ModelId), Is.EqualTo(new[] { first.ModelId }));
        Assert.That(page2.NextPageToken, Is.Null);

        Assert.That(async () => await client.SearchLoggedModelsAsync([experimentId], new LoggedModelSearchOptions { Filter = "name = 'first'" }),
            Throws.InstanceOf<NotSupportedException>().With.Message.Contains("filter").And.Message.Contains(_root));
    }
}
