using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>
/// The evaluation samples under samples/ (built with the tests), each run as a user would on a fresh machine with no
/// server: <c>MLFLOW_TRACKING_URI</c> names a temp folder (the local store), and the test reads back what landed there.
/// </summary>
[Category("Samples")]
[NonParallelizable]
[CancelAfter(900_000)]
public class SamplesTests
{
    internal const string Experiment = "sentiment-evaluation";
    internal const string ModelName = "sentiment-classifier";

    [Test]
    public async Task ModelEvaluation_logs_one_run_per_model_and_registers_the_champion_then_the_gate_judges_candidates()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var env = new Dictionary<string, string?> { [MlflowEnvironmentVariables.TrackingUri] = dir.Path };

        var (exit, output) = await SampleProcess.RunAsync("ModelEvaluation", dir.Path, env);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("with alias champion").And.Contain("Logged to the local store " + dir.Path));

        using var store = new LocalFileStore(dir.Path);
        var runs = await ReadRunsAsync(store, Experiment);
        Assert.That(runs.Select(r => r.Data.Params.Single(p => p.Key == "model_name").Value), Is.EquivalentTo(new[] { "SdcaLogisticRegression", "LbfgsLogisticRegression", "AveragedPerceptron" }));
        foreach (var run in runs)
        {
            var artifacts = Path.Combine(dir.Path, run.Info.ExperimentId, run.Info.RunId, "artifacts");
            SampleChecks.AssertEvaluationRun(run, p => File.Exists(Path.Combine(artifacts, p)));
            var full = await store.GetRunAsync(run.Info.RunId, CancellationToken.None);
            Assert.That(full.Inputs.DatasetInputs.Single().Dataset.Name, Is.EqualTo("reviews-test"), run.Info.RunName);
            Assert.That(full.Data.Tags.Single(t => t.Key == "mlflow.loggedArtifacts").Value, Does.Contain("\"eval_results_table.json\""), run.Info.RunName);
            // The model is an MLflow 3 logged model of the run (models/m-<id> in the run's experiment), as Python 3.11.1 logs it.
            var modelOutput = full.Outputs.ModelOutputs.Single();
            Assert.That(modelOutput.ModelId, Does.StartWith("m-"), run.Info.RunName);
            var modelDir = Path.Combine(dir.Path, run.Info.ExperimentId, "models", modelOutput.ModelId, "artifacts");
            Assert.That(Directory.GetFiles(modelDir).Select(Path.GetFileName), Does.Contain("MLmodel").And.Contain("model.onnx"), run.Info.RunName + ": the logged model, the ONNX export");
            Assert.That(File.ReadAllText(Path.Combine(modelDir, "MLmodel")), Does.Contain("loader_module: mlflow.onnx"), run.Info.RunName);
            var trainer = run.Data.Params.Single(p => p.Key == "model_name").Value;
            Assert.That(new FileInfo(Path.Combine(artifacts, SamplesRealServerTests.SampleMlNetFolder, trainer + ".zip")).Length, Is.GreaterThan(0), run.Info.RunName + ": the ML.NET .zip as a run artifact");
        }

        // The champion is the run with the best f1_score, registered in the store's file registry.
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = Experiment }))
        {
            var champion = tracker.Registry.GetVersionByAlias(ModelName, "champion");
            var best = runs.OrderByDescending(r => SampleChecks.Metric(r, "f1_score")).First();
            Assert.That(SampleChecks.Metric(runs.Single(r => r.Info.RunId == champion.RunId), "f1_score"), Is.EqualTo(SampleChecks.Metric(best, "f1_score")));
            Assert.That(champion.Source, Does.StartWith("models:/m-"), "the champion's logged model");
        }

        // The gate: the champion's trainer retrained passes; a perceptron trained on 8 reviews regresses (exit 1).
        (exit, output) = await SampleProcess.RunAsync("EvaluationGate", dir.Path, env);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Evaluation gate: PASS"));
        (exit, output) = await SampleProcess.RunAsync("EvaluationGate", dir.Path, env, "--trainer", "AveragedPerceptron", "--train-size", "8");
        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("Evaluation gate: REGRESSION").And.Contain("REGRESSED"));
        Assert.That(await ReadRunsAsync(store, Experiment), Has.Count.EqualTo(5), "two candidate runs beside the three models");
    }

    [Test]
    public async Task EvaluationGate_with_promote_registers_a_winning_candidate_as_champion_and_keeps_the_alias_for_an_equal_one()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var env = new Dictionary<string, string?> { [MlflowEnvironmentVariables.TrackingUri] = dir.Path };

        // No champion yet: the candidate has no baseline, passes with every metric, and takes the alias as version 1.
        var (exit, output) = await SampleProcess.RunAsync("EvaluationGate", dir.Path, env, "--promote");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain($"Promoted: {ModelName} version 1 is now champion."));
        string? firstRunId;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = Experiment }))
        {
            var champion = tracker.Registry.GetVersionByAlias(ModelName, "champion");
            Assert.That(champion.Version, Is.EqualTo("1"));
            firstRunId = champion.RunId;
            Assert.That(tracker.SearchRuns(new Mlflow.Client.Comparison.RunQuery { ExperimentNames = [Experiment] }).Rows.Select(r => r.RunId), Does.Contain(firstRunId));
        }

        // The same trainer and seed again: it passes, but its f1_score is not better, so the alias stays where it was.
        (exit, output) = await SampleProcess.RunAsync("EvaluationGate", dir.Path, env, "--promote");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Evaluation gate: PASS").And.Not.Contain("Promoted"));
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = Experiment }))
        {
            var champion = tracker.Registry.GetVersionByAlias(ModelName, "champion");
            Assert.That((champion.Version, champion.RunId), Is.EqualTo(("1", firstRunId)));
        }
    }

    [Test]
    public async Task MLflow_reads_what_ModelEvaluation_wrote_to_the_local_store()
    {
        MlflowPython.Require();
        MlflowPython.RequireModule("onnx", Artifacts.MlflowReadsTablesModelsTests.OnnxDebianPackage);
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var (exit, output) = await SampleProcess.RunAsync("ModelEvaluation", dir.Path, new Dictionary<string, string?> { [MlflowEnvironmentVariables.TrackingUri] = dir.Path });
        Assert.That(exit, Is.Zero, output);

        var script = Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Samples", "read_sample_store.py");
        var theirs = JsonNode.Parse(await MlflowPython.RunAsync(script, dir.Path, Experiment))!;
        var runs = theirs["runs"]!.AsArray();
        Assert.That(runs, Has.Count.EqualTo(3));
        foreach (var run in runs)
        {
            Assert.That(run!["status"]!.GetValue<string>(), Is.EqualTo("FINISHED"));
            Assert.That(run["params"]!["task"]!.GetValue<string>(), Is.EqualTo("binary-sentiment-classification"));
            Assert.That(run["metrics"]!["example_count"]!.GetValue<double>(), Is.EqualTo(80));
            // The model is a logged model (MLflow 3's layout), not under the run's artifacts: MLflow 3's Python reads it below.
            Assert.That(run["artifacts"]!.AsArray().Select(a => a!.GetValue<string>()), Is.SupersetOf(SampleChecks.Artifacts));
            Assert.That(run["inputs"]![0]![0]!.GetValue<string>(), Is.EqualTo("reviews-test"));
            Assert.That(run["table_rows"]!.GetValue<int>(), Is.EqualTo(80), "load_table reads the predictions table");
            Assert.That(run["table_columns"]!.AsArray().Select(c => c!.GetValue<string>()), Is.SupersetOf(new[] { "text", "target", "outputs" }));
        }

        Assert.That(runs.Select(r => r!["run_id"]!.GetValue<string>()), Does.Contain(theirs["champion"]!["run_id"]!.GetValue<string>()));
        var onnx = theirs["onnx_models"]!.AsArray();
        Assert.That(onnx, Has.Count.EqualTo(3), "mlflow.onnx.load_model opens each logged model's folder");
        Assert.That(onnx.Select(m => m!["inputs"]!.AsArray().Select(i => i!.GetValue<string>()).ToList()), Has.All.EqualTo(new[] { "Text" }), "the graph takes the review text");

        // MLflow 3's Python (MLFLOW_SRC of the 3.x line) also finds the logged models, as on a server.
        var read = await SampleReadBack.ReadAsync("file:" + dir.Path, Experiment);
        if (SampleReadBack.PythonMajor(read) >= 3)
        {
            SampleReadBack.AssertMlflow3(read);
        }
    }

    [Test]
    public async Task HyperparameterSweep_nests_a_child_per_grid_point_with_per_epoch_metrics_and_tags_the_best_on_the_parent()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var (exit, output) = await SampleProcess.RunAsync("HyperparameterSweep", dir.Path, new Dictionary<string, string?> { [MlflowEnvironmentVariables.TrackingUri] = dir.Path });
        Assert.That(exit, Is.Zero, output);

        using var store = new LocalFileStore(dir.Path);
        var runs = await ReadRunsAsync(store, "sentiment-sweep");
        var parent = runs.Single(r => r.Info.RunName == "perceptron-sweep");
        var children = runs.Where(r => r.Info.RunId != parent.Info.RunId).ToList();
        Assert.That(children, Has.Count.EqualTo(6), "3 learning rates x 2 epoch counts");
        foreach (var child in children)
        {
            Assert.That(child.Data.Tags.Single(t => t.Key == "mlflow.parentRunId").Value, Is.EqualTo(parent.Info.RunId));
            Assert.That(child.Info.Status, Is.EqualTo(RunStatus.Finished));
            var epochs = int.Parse(child.Data.Params.Single(p => p.Key == "epochs").Value, System.Globalization.CultureInfo.InvariantCulture);
            var history = await store.GetMetricHistoryAsync(child.Info.RunId, "epoch_accuracy", CancellationToken.None);
            Assert.That(history.Select(m => m.Step), Is.EqualTo(Enumerable.Range(1, epochs).Select(i => (long)i)), child.Info.RunName);
            Assert.That(SampleChecks.Metric(child, "f1_score"), Is.InRange(0.0, 1.0));
        }

        // Grid points can tie on f1_score: the tagged child must be one with the highest.
        var bestF1 = children.Max(r => SampleChecks.Metric(r, "f1_score"));
        var tagged = children.Single(r => r.Info.RunId == parent.Data.Tags.Single(t => t.Key == "best_run_id").Value);
        Assert.That(SampleChecks.Metric(tagged, "f1_score"), Is.EqualTo(bestF1));
        Assert.That(SampleChecks.Metric(parent, "best_f1_score"), Is.EqualTo(bestF1));
        Assert.That(output, Does.Contain(tagged.Info.RunId));
    }

    [Test]
    public async Task OfflineThenSync_keeps_the_run_offline_and_prints_the_sync_command()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var offline = Path.Combine(dir.Path, "offline");
        var (exit, output) = await SampleProcess.RunAsync("OfflineThenSync", dir.Path, new Dictionary<string, string?> { [MlflowEnvironmentVariables.OfflineDir] = offline });
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("data location Offline").And.Contain("mlflow-sync --from " + offline).And.Contain("http://127.0.0.1:1"));

        using var store = new LocalFileStore(offline);
        var run = (await ReadRunsAsync(store, "offline-then-sync")).Single();
        Assert.That(run.Data.Params.Select(p => p.Key), Is.SupersetOf(new[] { "trainer", "learning_rate", "epochs" }));
        var history = await store.GetMetricHistoryAsync(run.Info.RunId, "epoch_f1", CancellationToken.None);
        Assert.That(history.Select(m => m.Step), Is.EqualTo(Enumerable.Range(1, 10).Select(i => (long)i)));
    }

    [Test]
    public async Task LlmEvaluation_with_the_stand_in_logs_every_scorers_mean_and_a_trace_per_question_to_the_local_store()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var (exit, output) = await SampleProcess.RunAsync("LlmEvaluation", dir.Path, new Dictionary<string, string?>
        {
            [MlflowEnvironmentVariables.TrackingUri] = dir.Path,
            ["LLM_ENDPOINT"] = null,
        });
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("deterministic stand-in"), "it says it is not using a language model");

        using var store = new LocalFileStore(dir.Path);
        var run = (await ReadRunsAsync(store, "llm-evaluation")).Single();
        var means = run.Data.Metrics.Where(m => m.Key.EndsWith("/mean", StringComparison.Ordinal)).ToDictionary(m => m.Key, m => m.Value);
        Assert.That(means.Keys, Is.SupersetOf(new[] { "exact_match/mean", "token_f1/mean", "correctness/mean", "relevance_to_query/mean", "retrieval_groundedness/mean", "safety/mean", "guidelines/mean" }));
        Assert.That(means["token_f1/mean"], Is.GreaterThan(0.2).And.LessThanOrEqualTo(1.0), "the stand-in answers from the right document for most questions");
        Assert.That(run.Data.Params.Single(p => p.Key == "model").Value, Is.EqualTo("stand-in-overlap"));
        var traceIds = store.ListRunTraceIds(run.Info.RunId);
        Assert.That(traceIds, Has.Count.EqualTo(22), "one trace per question, kept in the local store");
        var trace = await store.GetTraceAsync(traceIds[0], CancellationToken.None);
        Assert.That(trace.Info.Assessments.Select(a => a.Name), Is.SupersetOf(new[] { "correctness", "token_f1", "expected_response" }), "feedback and the expectation on the trace");

        // The application's chat client is built with UseOpenTelemetry: its call is a CHAT_MODEL span under the record's
        // root, with the messages and the token usage (which the token_usage scorer sums).
        var root = trace.Spans.Single(s => s.ParentSpanId is null);
        var chat = trace.Spans.Single(s => s.SpanType == SpanType.ChatModel);
        Assert.That(chat.ParentSpanId, Is.EqualTo(root.SpanId));
        var question = root.Inputs!["question"]!.GetValue<string>();
        Assert.That(chat.Inputs!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), Does.Contain(question).And.Contain("Answer the question in one short sentence"));
        Assert.That(means["token_usage/mean"], Is.GreaterThan(0), "the stand-in reports token usage on the chat span");
    }

    internal static async Task<IReadOnlyList<Run>> ReadRunsAsync(LocalFileStore store, string experimentName)
    {
        var experiment = await store.GetExperimentByNameAsync(experimentName, CancellationToken.None);
        Assert.That(experiment, Is.Not.Null, "experiment " + experimentName);
        return (await store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment!.ExperimentId] }, null, CancellationToken.None)).Items;
    }
}
