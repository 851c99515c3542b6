using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>Tables, dataset inputs and models logged through <see cref="ActiveRun"/> into a local store, read back from its files.</summary>
internal sealed class RunTablesModelsTests
{
    private string _root = "";

    internal sealed record Prediction(string Input, string Output, double Score);

    internal static string TinyOnnx => Path.Combine(RepoPaths.RepoRoot, "tests", "Fixtures", "onnx", "tiny.onnx");

    [SetUp]
    public void SetUp() => _root = Path.Combine(Directory.CreateTempSubdirectory("tables-models-").FullName, "mlruns");

    [TearDown]
    public void TearDown() => Directory.Delete(Path.GetDirectoryName(_root)!, recursive: true);

    private MlflowTracker NewTracker() => MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _root, ExperimentName = "tables" });

    private async Task<Run> ReadRunAsync(string runId)
    {
        using var store = new LocalFileStore(_root);
        return await store.GetRunAsync(runId, CancellationToken.None);
    }

    private static string ArtifactDir(Run run) => FileStorePaths.FromFileUri(run.Info.ArtifactUri!);

    [Test]
    public async Task A_second_table_on_the_same_file_appends_rows_and_the_tag_lists_each_table_once()
    {
        string runId;
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("tables");
            runId = run.RunId;
            run.LogTable(MlflowTable.FromRows([new Prediction("What is MLflow?", "A platform", 0.5)]), "eval/predictions.json");
            await run.LogTableAsync(MlflowTable.FromRows([new Prediction("And ML.NET?", "A library", 0.25)]), "eval/predictions.json");
            run.LogTable(MlflowTable.FromColumns([new("k", new object?[] { 1, 2 })]), "other.json");
            var back = await run.LoadTableAsync("eval/predictions.json");
            Assert.That(back.RowCount, Is.EqualTo(2));
        }

        var stored = await ReadRunAsync(runId);
        Assert.That(File.ReadAllText(Path.Combine(ArtifactDir(stored), "eval", "predictions.json")),
            Is.EqualTo("""{"columns":["Input","Output","Score"],"data":[["What is MLflow?","A platform",0.5],["And ML.NET?","A library",0.25]]}"""));
        Assert.That(stored.Data.Tags.Single(t => t.Key == "mlflow.loggedArtifacts").Value,
            Is.EqualTo("""[{"path": "eval/predictions.json", "type": "table"}, {"path": "other.json", "type": "table"}]"""));
    }

    [Test]
    public async Task Bad_tables_are_refused_before_anything_is_written()
    {
        string runId;
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("bad tables");
            runId = run.RunId;
            Assert.Throws<ArgumentException>(() => run.LogTable(MlflowTable.FromRows([new Prediction("a", "b", 1)]), "predictions.csv"));
            Assert.Throws<ArgumentException>(() => run.LogTable(MlflowTable.FromRows([new Prediction("a", "b", 1)]), "a:b.json"));
            Assert.Throws<MlflowValidationException>(() => run.LogTable(MlflowTable.FromRows([new Prediction("a", "b", 1)]), "../escape.json"));
            Assert.Throws<MlflowValidationException>(() => run.LogTable(MlflowTable.FromRows([new Prediction("a", "b", 1)]), "/abs/t.json"));
            Assert.Throws<ArgumentException>(() => run.LogTable(MlflowTable.FromRows(["a", "b"], [new object?[] { 1, 2 }, new object?[] { 3 }]), "ragged.json"));
        }

        var stored = await ReadRunAsync(runId);
        Assert.That(Directory.Exists(ArtifactDir(stored)) ? Directory.EnumerateFileSystemEntries(ArtifactDir(stored)) : [], Is.Empty);
        Assert.That(stored.Data.Tags.Select(t => t.Key), Has.None.EqualTo("mlflow.loggedArtifacts"));
        Assert.That(File.Exists(Path.Combine(Path.GetDirectoryName(_root)!, "escape.json")), Is.False);
    }

    [Test]
    public async Task A_dataset_input_is_recorded_with_its_context()
    {
        string runId;
        var dataset = MlflowDataset.FromRows([new Prediction("a", "b", 1)], "eval-set", "/data/eval.csv");
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("inputs");
            runId = run.RunId;
            run.LogInput(dataset, "evaluation");
            Assert.Throws<ArgumentException>(() => run.LogInput(dataset, new string('c', 501)));
        }

        var input = (await ReadRunAsync(runId)).Inputs.DatasetInputs.Single();
        Assert.That((input.Dataset.Name, input.Dataset.Digest, input.Dataset.SourceType, input.Dataset.Source, input.Dataset.Schema, input.Dataset.Profile),
            Is.EqualTo((dataset.Name, dataset.Digest, "local", """{"uri": "/data/eval.csv"}""", dataset.Schema, """{"num_rows": 1, "num_elements": 3}""")));
        Assert.That(input.Tags.Single(), Is.EqualTo(new Tag("mlflow.data.context", "evaluation")));
    }

    [Test]
    public async Task Where_there_are_no_logged_models_models_are_written_beside_their_MLmodel()
    {
        // The MLflow 2 way (an MLflow 2 server, the in-memory store): the local store makes logged models (LocalLogModelTests),
        // and the history tag on a 2.x server is checked by OfflineTablesModelsTests.
        var weights = Path.Combine(Path.GetDirectoryName(_root)!, "model.zip");
        File.WriteAllBytes(weights, [1, 2, 3, 4]);
        await using var tracker = MlflowTracker.CreateInMemory(new MlflowTrackerOptions { ExperimentName = "tables" });
        await using var run = tracker.StartRun("models");
        var runId = run.RunId;
        var onnx = run.LogModel("model", TinyOnnx, new MlflowModelOptions { Signature = MlflowModelSignature.ForTensors([new MlflowTensorSpec("float32", [-1, 2], "X")]) });
        var files = await run.LogModelAsync("mlnet", weights);

        Assert.That(onnx.ModelUri, Is.EqualTo($"runs:/{runId}/model"));
        Assert.That(onnx.Flavors, Is.EqualTo(new[] { "python_function", "onnx" }));
        Assert.That(files.Flavors, Is.EqualTo(new[] { "files" }));
        var dir = run.DownloadArtifacts(null, Path.Combine(Path.GetDirectoryName(_root)!, "download"));
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "model", "model.onnx")), Is.EqualTo(File.ReadAllBytes(TinyOnnx)));
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "mlnet", "model.zip")), Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
        var mlmodel = run.LoadText("model/MLmodel");
        Assert.That(mlmodel, Does.Contain($"run_id: {runId}\n").And.Contain("artifact_path: model\n").And.Contain($"model_uuid: {onnx.ModelUuid}\n"));
    }

    [Test]
    public async Task Bad_models_are_refused_before_anything_is_written()
    {
        string runId;
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("bad models");
            runId = run.RunId;
            Assert.Throws<FileNotFoundException>(() => run.LogModel("model", "/nonexistent/model.onnx"));
            Assert.Throws<MlflowValidationException>(() => run.LogModel("../model", TinyOnnx));
            Assert.Throws<MlflowValidationException>(() => run.LogModel("/abs/model", TinyOnnx));
            Assert.Throws<ArgumentException>(() => run.LogModel("model", Path.GetDirectoryName(TinyOnnx)!, new MlflowModelOptions { Flavor = MlflowModelFlavor.Onnx }));
        }

        var stored = await ReadRunAsync(runId);
        Assert.That(Directory.Exists(ArtifactDir(stored)) ? Directory.EnumerateFileSystemEntries(ArtifactDir(stored)) : [], Is.Empty);
        Assert.That(stored.Data.Tags.Select(t => t.Key), Has.None.EqualTo("mlflow.log-model.history"));
    }

    [Test]
    public async Task Logging_to_an_ended_run_is_refused()
    {
        await using var tracker = NewTracker();
        var run = tracker.StartRun("ended");
        run.End();
        Assert.Throws<InvalidOperationException>(() => run.LogTable(MlflowTable.FromColumns([new("a", new object?[] { 1 })]), "t.json"));
        Assert.Throws<InvalidOperationException>(() => run.LogInput(MlflowDataset.Create("n", "d", "/x")));
        Assert.Throws<InvalidOperationException>(() => run.LogModel("model", TinyOnnx));
    }
}
