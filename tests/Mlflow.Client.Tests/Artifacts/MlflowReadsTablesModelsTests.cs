using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// Opt-in: a run logs tables, a dataset input and two models (onnx and files), then MLflow's own Python client
/// (<c>read_tables_models.py</c>, the source tree of <c>MLFLOW_SRC</c> with the shims of <c>MLFLOW_SHIMS</c>, run with
/// <c>/usr/bin/python3</c>) reads them: <c>mlflow.load_table</c>, <c>run.inputs</c>, <c>mlflow.onnx.load_model</c>,
/// <c>mlflow.models.get_model_info</c>. Against a local store (needs <c>MLFLOW_SRC</c>) and against the real server of
/// <c>MLFLOW_TEST_TRACKING_URI</c>. Both need Python's <c>onnx</c> (Debian <c>python3-onnx</c>) and are skipped, saying so,
/// without it.
/// </summary>
[Category("RealServer")]
[NonParallelizable]
internal sealed class MlflowReadsTablesModelsTests
{
    /// <summary><c>mlflow.onnx.load_model</c> imports Python's <c>onnx</c>; Debian 12 packages it as this.</summary>
    internal const string OnnxDebianPackage = "python3-onnx";

    [Test]
    public async Task Mlflow_reads_what_a_local_store_run_logged()
    {
        RealMlflowReadTests.RequireMlflow();
        MlflowPython.RequireModule("onnx", OnnxDebianPackage);
        var parent = Directory.CreateTempSubdirectory("tables-python-").FullName;
        try
        {
            var root = Path.Combine(parent, "mlruns");
            await LogAndReadAsync(root, new Uri(root).AbsoluteUri, localRoot: root);
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Test]
    public async Task Mlflow_reads_what_a_server_run_logged()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();
        RealMlflowReadTests.RequireMlflow();
        MlflowPython.RequireModule("onnx", OnnxDebianPackage);
        await LogAndReadAsync(uri, uri);
    }

    private static async Task LogAndReadAsync(string trackingUri, string pythonUri, string? localRoot = null)
    {
        var weights = Path.Combine(Path.GetTempPath(), "weights-" + Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(weights, [9, 8, 7]);
        var dataset = MlflowDataset.FromRows([new RunTablesModelsTests.Prediction("q", "a", 0.5)], "eval-set", "/data/eval.csv");
        string runId, experimentId;
        try
        {
            await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = trackingUri, ExperimentName = "dotnet-tables-" + Guid.NewGuid().ToString("N")[..8] });
            await using var run = await tracker.StartRunAsync("tables and models");
            (runId, experimentId) = (run.RunId, run.ExperimentId);
            await run.LogTableAsync(MlflowTable.FromRows([new RunTablesModelsTests.Prediction("What is MLflow?", "A platform/tool", 0.5)]), "eval/predictions.json");
            await run.LogTableAsync(MlflowTable.FromRows([new RunTablesModelsTests.Prediction("é?", "ü", 1.0 / 3)]), "eval/predictions.json");
            await run.LogInputAsync(dataset, "evaluation");
            await run.LogModelAsync("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions
            {
                Signature = MlflowModelSignature.ForTensors([new MlflowTensorSpec("float32", [-1, 2], "X")], [new MlflowTensorSpec("float32", [-1, 2], "Y")]),
            });
            await run.LogModelAsync("weights", weights);
        }
        finally
        {
            File.Delete(weights);
        }

        var script = Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Artifacts", "read_tables_models.py");
        var modelFolders = "";
        var (_, version, _) = RealMlflowReadTests.Python("-c \"import mlflow; print(mlflow.__version__)\"");
        if (localRoot is not null && version.Trim().StartsWith("2.", StringComparison.Ordinal))
        {
            // The local store writes models as MLflow 3 logged models; MLflow 2.x loads each from its folder.
            var store = new LocalFileStore(localRoot);
            modelFolders = string.Concat(store.ListLoggedModels(experimentId).Select(m => $" \"{m.Info.Name}={store.LoggedModelArtifactDirectory(m.Info.ModelId)}\""));
        }

        var (code, stdout, stderr) = RealMlflowReadTests.Python($"\"{script}\" \"{pythonUri}\" {experimentId} {runId} eval/predictions.json model weights{modelFolders}");
        Assert.That(code, Is.Zero, stderr);
        var json = JsonNode.Parse(stdout)!;

        Assert.That(json["table"]!["columns"]!.AsArray().Select(c => (string)c!), Is.EqualTo(new[] { "Input", "Output", "Score" }));
        Assert.That(JsonNode.DeepEquals(json["table"]!["data"], JsonNode.Parse("""[["What is MLflow?","A platform/tool",0.5],["é?","ü",0.3333333333]]""")), json["table"]!["data"]!.ToJsonString());
        Assert.That(json["logged_artifacts"]!.ToJsonString(), Is.EqualTo("""[{"path":"eval/predictions.json","type":"table"}]"""));
        var input = json["inputs"]!.AsArray().Single()!;
        Assert.That(((string)input["name"]!, (string)input["digest"]!, (string)input["source_type"]!, (string)input["source"]!, (string?)input["schema"], (string?)input["profile"]),
            Is.EqualTo((dataset.Name, dataset.Digest, "local", dataset.Source, dataset.Schema, dataset.Profile)));
        Assert.That((string)input["tags"]!["mlflow.data.context"]!, Is.EqualTo("evaluation"));
        Assert.That(json["onnx"]!.ToJsonString(), Is.EqualTo("""{"inputs":["X"],"outputs":["Y"]}"""));
        Assert.That((string)json["onnx_info"]!["run_id"]!, Is.EqualTo(runId));
        // MLflow 3 reads the model as a logged model: its artifact path is the model's own location, as for a model Python logs.
        var mlflow3 = (int)json["mlflow_major"]! >= 3;
        Assert.That((string)json["onnx_info"]!["artifact_path"]!, mlflow3 || modelFolders.Length > 0 ? Does.Match("/models/m-[0-9a-f]{32}/artifacts$") : Is.EqualTo("model"));
        Assert.That((string)json["onnx_info"]!["loader_module"]!, Is.EqualTo("mlflow.onnx"));
        Assert.That(json["onnx_info"]!["flavors"]!.ToJsonString(), Is.EqualTo("""["onnx","python_function"]"""));
        Assert.That(json["onnx_info"]!["signature_inputs"]!.ToJsonString(), Does.Contain("\"name\":\"X\""));
        TestContext.Out.WriteLine("pyfunc.load_model: " + (string)json["pyfunc"]!);
        Assert.That((string)json["pyfunc"]!, Is.EqualTo("loaded").Or.EqualTo("missing module onnxruntime"));
        Assert.That(json["files_info"]!["files"]!.ToJsonString(), Does.Match("""^\[\{"path":"weights-[0-9a-f]{32}\.bin","size_bytes":3\}\]$"""));
        Assert.That(json["history"]!.AsArray().Select(h => (string)h!["artifact_path"]!), modelFolders.Length == 0 ? Is.EqualTo(new[] { "model", "weights" }) : Is.Empty);
    }
}
