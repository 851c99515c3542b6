using System.Text;
using System.Text.RegularExpressions;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// MLflow 3 logged models in the local store: the files match what MLflow 3.11.1's Python writes
/// (<c>tests/Fixtures/filestore3-logged-model</c>, captured with <c>capture.py</c> there), and a folder Python wrote
/// reads back through the store.
/// </summary>
internal sealed partial class LocalLoggedModelTests : FileStoreTestBase
{
    private static string Fixture => Path.Combine(RepoPaths.FixturesDir, "filestore3-logged-model", "mlruns");

    private static string FixtureExperiment => Directory.GetDirectories(Fixture).Single(d => Path.GetFileName(d) is var n && n != "0" && n.All(char.IsAsciiDigit));

    private static string FixtureModel => Directory.GetDirectories(Path.Combine(FixtureExperiment, "models")).Single();

    private static string FixtureRun => Directory.GetDirectories(FixtureExperiment).Single(d => Path.GetFileName(d).Length == 32);

    /// <summary>What capture.py does, through the store: a run, a model it produced, metrics linked to the model (one on a dataset).</summary>
    private async Task<(string RunId, string ModelId, string ExperimentId)> WriteLikeCaptureAsync(bool finalize = true)
    {
        var exp = await Store.CreateExperimentAsync("capture", null, null, None);
        var run = await Store.CreateRunAsync(exp, null, 1_796_501_644_276, [new Tag("mlflow.user", "root"), new Tag("mlflow.source.name", "capture.py"), new Tag("mlflow.source.type", "LOCAL")], "root", None);
        var runId = run.Info.RunId;
        await Store.LogBatchAsync(runId, [new Metric("acc", 0.5, 1_796_501_644_295, 0)], [new Param("lr", "0.1")], [], None);
        var model = Store.CreateLoggedModel(exp, "mymodel", null, runId, [new Param("lr", "0.1"), new Param("p1", "v1")],
            [new Tag("mlflow.source.name", "capture.py"), new Tag("mlflow.source.type", "LOCAL"), new Tag("mlflow.user", "root"), new Tag("t1", "x")]);
        var id = model.Info.ModelId;
        Store.LogOutputs(runId, [new ModelOutput(id, 0)]);
        await Store.LogBatchAsync(runId, [new Metric("acc", 0.5, 1_796_501_644_295, 0) { ModelId = id }], [], [], None);
        await Store.LoggedModelArtifacts(id).WriteAsync("MLmodel", new MemoryStream(Encoding.UTF8.GetBytes("model_id: " + id + "\n")), None);
        await Store.LoggedModelArtifacts(id).WriteAsync("requirements.txt", new MemoryStream(Encoding.UTF8.GetBytes("mlflow==3.11.1")), None);
        if (finalize)
        {
            Store.FinalizeLoggedModel(id, LoggedModelStatus.Ready);
        }

        await Store.LogBatchAsync(runId, [new Metric("auc", 0.9, 1_796_501_650_275, 1) { ModelId = id }], [], [], None);
        await Store.LogBatchAsync(runId, [new Metric("f1", 0.7, 1_796_502_246_754, 2) { ModelId = id, DatasetName = "evalset", DatasetDigest = "3eb88840" }], [], [], None);
        return (runId, id, exp);
    }

    [Test]
    public async Task A_logged_models_folder_holds_the_files_MLflow_3_11_1_writes()
    {
        var (runId, modelId, exp) = await WriteLikeCaptureAsync();
        var ours = Path.Combine(Root, exp, "models", modelId);
        Assert.That(Files(ours), Is.EqualTo(Files(FixtureModel)), "the same files: meta.yaml, params, tags, metrics, artifacts");
        Assert.That(Normalize(File.ReadAllText(Path.Combine(ours, "meta.yaml"))), Is.EqualTo(Normalize(File.ReadAllText(Path.Combine(FixtureModel, "meta.yaml")))),
            "the same keys, order and value forms (status 2, nulls, quoted experiment id)");
        foreach (var key in new[] { "acc", "auc", "f1" })
        {
            Assert.That(Shape(File.ReadAllText(Path.Combine(ours, "metrics", key))), Is.EqualTo(Shape(File.ReadAllText(Path.Combine(FixtureModel, "metrics", key)))), key);
            Assert.That(File.ReadAllText(Path.Combine(ours, "metrics", key)), Does.Contain(" " + runId), key + " names the run");
        }

        Assert.That(File.ReadAllText(Path.Combine(ours, "metrics", "f1")), Does.EndWith(" evalset 3eb88840\n"));
        foreach (var file in new[] { "params/lr", "params/p1", "tags/t1", "tags/mlflow.source.name" })
        {
            Assert.That(File.ReadAllText(Path.Combine(ours, file)), Is.EqualTo(File.ReadAllText(Path.Combine(FixtureModel, file))), file);
        }

        var ourOutput = File.ReadAllText(Path.Combine(Root, exp, runId, "outputs", modelId, "meta.yaml"));
        var theirs = Directory.GetDirectories(Path.Combine(FixtureRun, "outputs")).Single();
        Assert.That(ourOutput.Replace(modelId, "<id>", StringComparison.Ordinal),
            Is.EqualTo(File.ReadAllText(Path.Combine(theirs, "meta.yaml")).Replace(Path.GetFileName(theirs), "<id>", StringComparison.Ordinal)));
    }

    [Test]
    public async Task The_runs_own_metric_lines_stay_in_MLflow_2s_three_word_form()
    {
        var (runId, _, exp) = await WriteLikeCaptureAsync();
        var runMetrics = Path.Combine(Root, exp, runId, "metrics");
        Assert.That(File.ReadAllText(Path.Combine(runMetrics, "acc")), Is.EqualTo("1796501644295 0.5 0\n1796501644295 0.5 0\n"), "the linked copy appended, as Python does");
        Assert.That(File.ReadAllText(Path.Combine(runMetrics, "f1")), Is.EqualTo("1796502246754 0.7 2\n"), "the dataset is in the model's file only: MLflow 2.x fails on a five-word line");
    }

    [Test]
    public async Task Created_PENDING_with_lifecycle_stage_and_finalized_without_it()
    {
        var (_, modelId, exp) = await WriteLikeCaptureAsync(finalize: false);
        var meta = Path.Combine(Root, exp, "models", modelId, "meta.yaml");
        Assert.That(File.ReadAllText(meta), Does.Contain("status: 1\n").And.Contain("lifecycle_stage: active\n"));
        Assert.That(Store.GetLoggedModel(modelId).Info.Status, Is.EqualTo(LoggedModelStatus.Pending));
        var finalized = Store.FinalizeLoggedModel(modelId, LoggedModelStatus.UploadFailed);
        Assert.That(finalized.Info.Status, Is.EqualTo(LoggedModelStatus.UploadFailed));
        Assert.That(File.ReadAllText(meta), Does.Contain("status: 3\n").And.Not.Contain("lifecycle_stage"));
    }

    [Test]
    public async Task What_the_store_writes_reads_back()
    {
        var (runId, modelId, exp) = await WriteLikeCaptureAsync();
        var model = Store.GetLoggedModel(modelId);
        Assert.That((model.Info.Name, model.Info.ExperimentId, model.Info.SourceRunId, model.Info.Status, model.Info.ModelType), Is.EqualTo(("mymodel", exp, runId, LoggedModelStatus.Ready, (string?)null)));
        Assert.That(model.Info.ArtifactUri, Is.EqualTo(FileStorePaths.ToFileUri(Path.Combine(Root, exp, "models", modelId, "artifacts"))));
        Assert.That(model.Data.Params, Is.EqualTo(new[] { new Param("lr", "0.1"), new Param("p1", "v1") }));
        Assert.That(model.Info.Tags.Select(t => t.Key), Is.EquivalentTo(new[] { "mlflow.source.name", "mlflow.source.type", "mlflow.user", "t1" }));
        Assert.That(model.Data.Metrics.Select(m => (m.Key, m.Value, m.Step, m.RunId, m.ModelId, m.DatasetName)),
            Is.EquivalentTo(new[] { ("acc", 0.5, 0L, runId, modelId, (string?)null), ("auc", 0.9, 1L, runId, modelId, null), ("f1", 0.7, 2L, runId, modelId, "evalset") }));
        Assert.That(Store.ListLoggedModels(exp).Select(m => m.Info.ModelId), Is.EqualTo(new[] { modelId }));
        var run = await Store.GetRunAsync(runId, None);
        Assert.That(run.Outputs.ModelOutputs, Is.EqualTo(new[] { new ModelOutput(modelId, 0) }));
        Assert.That(Store.LoggedModelArtifactDirectory(modelId), Is.EqualTo(Path.Combine(Root, exp, "models", modelId, "artifacts")));
    }

    [Test]
    public async Task A_folder_MLflow_3_11_1_wrote_reads_back_through_the_store()
    {
        var copy = Path.Combine(Parent, "python");
        CopyTree(Fixture, copy);
        using var store = new LocalFileStore(copy);
        var exp = Path.GetFileName(FixtureExperiment);
        var modelId = Path.GetFileName(FixtureModel);
        var runId = Path.GetFileName(FixtureRun);
        var model = store.GetLoggedModel(modelId);
        Assert.That((model.Info.Name, model.Info.Status, model.Info.SourceRunId, model.Info.ExperimentId), Is.EqualTo(("mymodel", LoggedModelStatus.Ready, runId, exp)));
        Assert.That(model.Data.Params.Select(p => p.Key), Is.EqualTo(new[] { "lr", "p1" }));
        Assert.That(model.Data.Metrics.Single(m => m.Key == "f1").DatasetDigest, Is.EqualTo("3eb88840"));
        var run = await store.GetRunAsync(runId, None);
        Assert.That(run.Outputs.ModelOutputs, Is.EqualTo(new[] { new ModelOutput(modelId, 0) }));
        Assert.That(run.Inputs.ModelInputs, Is.EqualTo(new[] { new ModelInput(modelId) }), "Python's fluent log_metric recorded the model as an input too");
        Assert.That(run.Inputs.DatasetInputs.Single().Dataset.Name, Is.EqualTo("evalset"));
        var f1 = await store.GetMetricHistoryAsync(runId, "f1", None);
        Assert.That((f1.Single().DatasetName, f1.Single().DatasetDigest), Is.EqualTo(("evalset", "3eb88840")), "a five-word run line MLflow 3 wrote");
        Assert.That(store.ListLoggedModels(exp), Has.Count.EqualTo(1));
        Assert.That((await store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [exp] }, null, None)).Items, Has.Count.EqualTo(1), "the models folder is not a run");
    }

    [Test]
    public void Bad_names_and_ids_are_refused_before_anything_is_written()
    {
        Assert.That(() => Store.CreateLoggedModel("0", "a/b", null, null, [], []), Throws.TypeOf<MlflowException>().With.Property(nameof(MlflowException.ErrorCode)).EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(() => Store.CreateLoggedModel("999", "m", null, null, [], []), Throws.TypeOf<MlflowException>().With.Property(nameof(MlflowException.ErrorCode)).EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(() => Store.GetLoggedModel("m-" + new string('0', 32)), Throws.TypeOf<MlflowException>().With.Property(nameof(MlflowException.ErrorCode)).EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        foreach (var bad in new[] { "..", "../0", "a/b", "con" })
        {
            Assert.That(() => Store.GetLoggedModel(bad), Throws.InstanceOf<MlflowValidationException>(), bad);
        }

        Assert.That(Directory.Exists(Path.Combine(Root, "0", "models")), Is.False);
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }

    [Test]
    public async Task A_metric_linked_to_a_bad_model_id_writes_nothing()
    {
        var run = await Store.CreateRunAsync("0", null, 1, null, null, None);
        Assert.That(() => Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1) { ModelId = "../../x" }], [], [], None), Throws.InstanceOf<MlflowValidationException>());
        Assert.That((await Store.GetRunAsync(run.Info.RunId, None)).Data.Metrics, Is.Empty);
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }

    private static string[] Files(string dir)
        => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();

    /// <summary>meta.yaml with ids, times, names and paths replaced by their kind.</summary>
    private static string Normalize(string yaml)
        => Timestamp().Replace(Ids().Replace(ArtifactPath().Replace(yaml, "artifact_location: <uri>"), "<id>"), ": <ms>");

    /// <summary>Each metric line as its word kinds: number, number, number, run id, and the dataset words when present.</summary>
    private static string Shape(string lines)
        => string.Join('\n', lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().Select(l => string.Join(' ', l.Split(' ').Select((w, i) => i < 3 ? "n" : i == 3 ? (w.Length == 32 ? "run" : w) : w))));

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [GeneratedRegex(@"artifact_location: \S+")]
    private static partial Regex ArtifactPath();

    [GeneratedRegex(@"(m-[0-9a-f]{32}|[0-9a-f]{32}|'\d+')")]
    private static partial Regex Ids();

    [GeneratedRegex(@": \d{13}")]
    private static partial Regex Timestamp();
}
