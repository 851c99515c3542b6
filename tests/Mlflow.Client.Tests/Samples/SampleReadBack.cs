using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>
/// What MLflow's own Python sees of a samples/ModelEvaluation execution: <c>read_sample_server.py</c> run with the
/// Python of <c>MLFLOW_SRC</c>, and the checks on its JSON for each MLflow line.
/// </summary>
internal static class SampleReadBack
{
    /// <summary>Runs <c>read_sample_server.py</c> against <paramref name="trackingUri"/> (a server, or <c>file:</c> and a local store).</summary>
    public static async Task<JsonNode> ReadAsync(string trackingUri, string experiment)
    {
        var script = Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Samples", "read_sample_server.py");
        var output = await MlflowPython.RunAsync(script, trackingUri, experiment, SamplesTests.ModelName);
        TestContext.Out.WriteLine(output);
        return JsonNode.Parse(output)!;
    }

    /// <summary>The major version of the MLflow Python that wrote <paramref name="json"/>.</summary>
    public static int PythonMajor(JsonNode json) => int.Parse(((string)json["version"]!).Split('.')[0], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The three evaluation runs, FINISHED, with the task param, the test split's size, the evaluation artifacts and the ML.NET model's folder.</summary>
    public static JsonArray AssertRuns(JsonNode json)
    {
        var runs = json["runs"]!.AsArray();
        Assert.That(runs, Has.Count.EqualTo(3));
        foreach (var run in runs)
        {
            var name = (string)run!["run_name"]!;
            Assert.That((string)run["status"]!, Is.EqualTo("FINISHED"), name);
            Assert.That((string)run["params"]!["task"]!, Is.EqualTo("binary-sentiment-classification"), name);
            Assert.That((double)run["metrics"]!["example_count"]!, Is.EqualTo(80), name);
            Assert.That(run["artifacts"]!.AsArray().Select(a => (string)a!), Is.SupersetOf(SampleChecks.Artifacts), name);
            Assert.That(run["artifacts"]!.AsArray().Select(a => (string)a!), Does.Contain("mlnet"), name + ": the ML.NET .zip beside the ONNX model");
        }

        return runs;
    }

    /// <summary>
    /// MLflow 3's Python: one READY logged model per run, whose source run is that run; the run's outputs list it;
    /// <c>Model.load("models:/m-…")</c> opens it (its MLmodel names the model and the run, the onnx flavor), its files
    /// download (<c>MLmodel</c>, <c>model.onnx</c>) and <c>mlflow.onnx.load_model</c> opens the graph; every evaluation metric of the run is among the model's metrics, linked by model id; the
    /// <c>champion</c> version (the best f1_score) has the champion run's logged model as its source.
    /// </summary>
    public static void AssertMlflow3(JsonNode json)
    {
        var runs = AssertRuns(json);
        var models = json["models"]!.AsArray();
        Assert.That(models.Select(m => (string)m!["source_run_id"]!), Is.EquivalentTo(runs.Select(r => (string)r!["run_id"]!)), "one logged model per trained model, its source the run");
        var modelOfRun = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            var modelId = (string)model!["model_id"]!;
            var runId = (string)model["source_run_id"]!;
            var run = runs.Single(r => (string)r!["run_id"]! == runId)!;
            var name = (string)run["run_name"]!;
            modelOfRun[runId] = modelId;
            Assert.That((string)model["status"]!, Is.EqualTo("READY"), name);
            Assert.That(run["outputs"]!.AsArray().Select(o => (string)o!["model_id"]!), Is.EqualTo(new[] { modelId }), name + ": get_run(...).outputs");
            Assert.That(((string)model["loaded"]!["model_id"]!, (string)model["loaded"]!["run_id"]!), Is.EqualTo((modelId, runId)), name + ": Model.load(models:/…)");

            var flavors = model["loaded"]!["flavors"]!.AsArray().Select(f => (string)f!).ToList();
            var files = model["files"]!.AsObject();
            Assert.That(flavors, Is.EquivalentTo(new[] { "onnx", "python_function" }), name + ": the ONNX export, MLflow's onnx flavor");
            Assert.That(files.Select(f => f.Key), Does.Contain("MLmodel").And.Contain("model.onnx"), name);
            Assert.That((long)files["model.onnx"]!, Is.GreaterThan(0), name);
            AssertOnnxOpens(model, name + ": mlflow.onnx.load_model(models:/…)");

            var linked = model["metrics"]!.AsArray()
                .Where(m => (string?)m!["model_id"] == modelId && (string?)m["run_id"] == runId)
                .Select(m => ((string)m!["key"]!, (double)m["value"]!)).ToList();
            foreach (var key in SampleChecks.EvaluationMetrics)
            {
                Assert.That(linked, Does.Contain((key, (double)run["metrics"]![key]!)), $"{name}: {key} linked to the logged model");
            }
        }

        var champion = json["champion"]!;
        var championRun = runs.Single(r => (string)r!["run_id"]! == (string)champion["run_id"]!)!;
        Assert.That((double)championRun["metrics"]!["f1_score"]!, Is.EqualTo(runs.Max(r => (double)r!["metrics"]!["f1_score"]!)), "the champion has the best f1_score");
        Assert.That((string)champion["source"]!, Is.EqualTo("models:/" + modelOfRun[(string)champion["run_id"]!]), "the champion's source is its run's logged model");
        Assert.That((string)champion["status"]!, Is.EqualTo("READY"));
    }

    /// <summary>MLflow 2's Python on a 2.x server: the ONNX model under the run's artifacts (<c>model/MLmodel</c>, <c>model/model.onnx</c>), opened by <c>mlflow.onnx</c>; the champion the best run's.</summary>
    public static void AssertMlflow2Server(JsonNode json)
    {
        var runs = AssertRuns(json);
        foreach (var run in runs)
        {
            var name = (string)run!["run_name"]!;
            Assert.That(run["artifacts"]!.AsArray().Select(a => (string)a!), Does.Contain("model"), name);
            Assert.That(run["model_files"]!.AsArray().Select(a => (string)a!), Is.EquivalentTo(new[] { "model/MLmodel", "model/model.onnx" }), name);
            Assert.That(((string)run["mlmodel"]!["run_id"]!, (string)run["mlmodel"]!["artifact_path"]!), Is.EqualTo(((string)run["run_id"]!, "model")), name);
            Assert.That(run["mlmodel"]!["flavors"]!.AsArray().Select(f => (string)f!), Is.EquivalentTo(new[] { "onnx", "python_function" }), name);
            AssertOnnxOpens(run["mlmodel"]!, name + ": mlflow.onnx.load_model(runs:/…/model)");
        }

        var champion = json["champion"]!;
        var championRun = runs.Single(r => (string)r!["run_id"]! == (string)champion["run_id"]!)!;
        Assert.That((double)championRun["metrics"]!["f1_score"]!, Is.EqualTo(runs.Max(r => (double)r!["metrics"]!["f1_score"]!)), "the champion has the best f1_score");
        Assert.That((string)champion["source"]!, Does.EndWith("/model"));
        Assert.That((string)champion["status"]!, Is.EqualTo("READY"));
    }

    /// <summary>
    /// <c>mlflow.onnx.load_model</c> opened the model as a <c>ModelProto</c> whose graph takes the review text
    /// (input <c>Text</c>) and imports the default ONNX opset; <c>mlflow.pyfunc.load_model</c> opened it too when
    /// onnxruntime is installed, else the script says it is absent. The tests require the <c>onnx</c> module first.
    /// </summary>
    public static void AssertOnnxOpens(JsonNode opened, string what)
    {
        Assert.That((string?)opened["onnx_loaded"], Is.EqualTo("ModelProto"), what);
        Assert.That(opened["onnx_inputs"]!.AsArray().Select(i => (string)i!), Is.EqualTo(new[] { "Text" }), what + ": the graph's one input, the review text");
        Assert.That((int)opened["onnx_opsets"]!["ai.onnx"]!, Is.GreaterThan(0), what + ": the default opset");
        if (opened["pyfunc_loaded"] is { } pyfunc)
        {
            Assert.That((string)pyfunc!, Is.EqualTo("PyFuncModel"), what + ": mlflow.pyfunc.load_model");
        }
        else
        {
            Assert.That((string?)opened["pyfunc_skipped"], Is.EqualTo("onnxruntime is not installed"), what);
            TestContext.Out.WriteLine($"{what}: mlflow.pyfunc.load_model not tried, onnxruntime is not installed.");
        }
    }
}
