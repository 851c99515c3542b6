using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.RealServer;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>
/// samples/ModelEvaluation against a real MLflow server (<c>MLFLOW_TEST_TRACKING_URI</c>), checked through the REST API
/// where MLflow's UI looks: the runs with their params and metrics, the dataset input, the PNG and the tables listed in
/// <c>mlflow.loggedArtifacts</c>, the logged ONNX model (<c>mlflow.log-model.history</c>, <c>model/MLmodel</c>,
/// <c>model/model.onnx</c>), the ML.NET <c>.zip</c> under <c>mlnet/</c> and the
/// registered version behind the alias <c>champion</c>.
/// </summary>
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(600_000)]
public class SamplesRealServerTests
{
    /// <summary>The run artifact folder of the ML.NET .zip (samples/Shared/SampleInputs.cs).</summary>
    internal const string SampleMlNetFolder = "mlnet";

    [Test]
    public async Task ModelEvaluation_against_a_server_puts_everything_where_MLflow_looks()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        var experiment = await RunSampleAsync(uri);

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var exp = await client.GetExperimentByNameAsync(experiment);
        Assert.That(exp, Is.Not.Null);
        var runs = (await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [exp!.ExperimentId] })).Items;
        var loggedModels = (await client.GetServerInfoAsync()).SupportsLoggedModels;
        Assert.That(runs, Has.Count.EqualTo(3));
        foreach (var run in runs)
        {
            var root = (await client.ListArtifactsAsync(run.Info.RunId)).Select(f => f.Path).ToList();
            SampleChecks.AssertEvaluationRun(run, root.Contains);

            var input = run.Inputs.DatasetInputs.Single();
            Assert.That(input.Dataset.Name, Is.EqualTo("reviews-test"), run.Info.RunName);
            Assert.That(input.Tags.Single(t => t.Key == "mlflow.data.context").Value, Is.EqualTo("eval"), run.Info.RunName);

            var mlnet = (await client.ListArtifactsAsync(run.Info.RunId, SampleMlNetFolder)).Select(f => f.Path).ToList();
            Assert.That(mlnet, Is.EqualTo(new[] { $"{SampleMlNetFolder}/{run.Data.Params.Single(p => p.Key == "model_name").Value}.zip" }), run.Info.RunName + ": the ML.NET .zip as a run artifact");

            var logged = JsonNode.Parse(run.Data.Tags.Single(t => t.Key == "mlflow.loggedArtifacts").Value)!.AsArray();
            Assert.That(logged.Select(a => (a!["path"]!.GetValue<string>(), a["type"]!.GetValue<string>())), Does.Contain(("eval_results_table.json", "table")), run.Info.RunName);

            if (loggedModels)
            {
                // MLflow 3: the model is a logged model of the run, its files under the model's own location.
                var modelOutput = run.Outputs.ModelOutputs.Single();
                var loggedModel = await client.GetLoggedModelAsync(modelOutput.ModelId);
                Assert.That(loggedModel.Info.Status, Is.EqualTo(LoggedModelStatus.Ready), run.Info.RunName);
                var files = (await client.ListProxiedArtifactsAsync(loggedModel.Info.ArtifactUri!)).Select(f => f.Path).ToList();
                Assert.That(files, Does.Contain("MLmodel").And.Contain("model.onnx"), run.Info.RunName + ": the ONNX export");
            }
            else
            {
                var history = JsonNode.Parse(run.Data.Tags.Single(t => t.Key == "mlflow.log-model.history").Value)!.AsArray();
                Assert.That(history.Select(h => h!["artifact_path"]!.GetValue<string>()), Does.Contain("model"), run.Info.RunName);
                var model = (await client.ListArtifactsAsync(run.Info.RunId, "model")).Select(f => f.Path).ToList();
                Assert.That(model, Does.Contain("model/MLmodel").And.Contain("model/model.onnx"), run.Info.RunName + ": the ONNX export");
            }

            await using var png = await client.DownloadRunArtifactAsync(run.Info.RunId, "confusion_matrix.png");
            var header = new byte[8];
            await png.ReadExactlyAsync(header);
            Assert.That(header, Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG");
        }

        var champion = await client.GetModelVersionByAliasAsync(SamplesTests.ModelName, "champion");
        var best = runs.OrderByDescending(r => SampleChecks.Metric(r, "f1_score")).First();
        Assert.That(SampleChecks.Metric(runs.Single(r => r.Info.RunId == champion.RunId), "f1_score"), Is.EqualTo(SampleChecks.Metric(best, "f1_score")));
        Assert.That(champion.Source, loggedModels ? Does.StartWith("models:/m-") : Does.EndWith("/model"));
        Assert.That(champion.Status, Is.EqualTo(ModelVersionStatus.Ready));
    }

    /// <summary>
    /// Issue 19's done-when, seen by MLflow's own Python (the one of <c>MLFLOW_SRC</c>, of the server's line): on MLflow 3
    /// <c>search_logged_models</c> finds one READY model per trained model with its run as source, <c>get_run(...).outputs</c>
    /// lists it, <c>Model.load("models:/m-…")</c> opens it, the evaluation metrics are linked to it and the
    /// <c>champion</c> version's source is it; on MLflow 2 the runs, their <c>model</c> artifacts and the champion run.
    /// </summary>
    [Test]
    public async Task MLflows_Python_reads_back_what_ModelEvaluation_logged_to_the_server()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        using (var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri }))
        {
            if ((await client.GetServerInfoAsync()).SupportsLoggedModels)
            {
                MlflowPython.RequireMlflow3();
            }
            else
            {
                MlflowPython.Require();
            }
        }

        MlflowPython.RequireModule("onnx", Artifacts.MlflowReadsTablesModelsTests.OnnxDebianPackage);

        var experiment = await RunSampleAsync(uri);
        var json = await SampleReadBack.ReadAsync(uri, experiment);
        if (SampleReadBack.PythonMajor(json) >= 3)
        {
            SampleReadBack.AssertMlflow3(json);
        }
        else
        {
            SampleReadBack.AssertMlflow2Server(json);
        }
    }

    /// <summary>Runs samples/ModelEvaluation against the server in a fresh experiment, from an empty folder; returns the experiment's name.</summary>
    private static async Task<string> RunSampleAsync(string uri)
    {
        var experiment = "sample-eval-" + Guid.NewGuid().ToString("N")[..10];
        var work = Directory.CreateTempSubdirectory("sample-eval-");
        try
        {
            var (exit, output) = await SampleProcess.RunAsync("ModelEvaluation", work.FullName, new Dictionary<string, string?>
            {
                [MlflowEnvironmentVariables.TrackingUri] = uri,
                [MlflowEnvironmentVariables.ExperimentName] = experiment,
            });
            Assert.That(exit, Is.Zero, output);
            Assert.That(output, Does.Contain("Logged to " + uri.TrimEnd('/')));
            Assert.That(Directory.Exists(Path.Combine(work.FullName, "mlruns")), Is.False, "nothing kept locally when the server answers");
        }
        finally
        {
            work.Delete(recursive: true);
        }

        return experiment;
    }
}
