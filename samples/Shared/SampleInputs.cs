using Microsoft.ML;
using Mlflow.Client;

namespace Mlflow.Samples;

/// <summary>The evaluation dataset and the model, as each sample logs them to a run.</summary>
internal static class SampleInputs
{
    /// <summary>The run artifact folder that keeps the ML.NET <c>.zip</c> beside the ONNX model.</summary>
    public const string MlNetArtifactPath = "mlnet";

    /// <summary>
    /// Logs the test split as the run's evaluation dataset (context <c>eval</c>): name <see cref="ReviewData.DatasetName"/>,
    /// source the shipped CSV file, schema and profile from the rows.
    /// </summary>
    public static void LogEvaluationDataset(ActiveRun run, IReadOnlyList<Review> test)
        => run.LogInput(MlflowDataset.FromRows(test, ReviewData.DatasetName, ReviewData.CsvPath), context: "eval");

    /// <summary>
    /// Logs the trained model as the run's one model at artifact path <c>model</c>: its ONNX export (MLflow's
    /// <c>onnx</c> flavor, which Python's <c>mlflow.onnx.load_model</c> and, with onnxruntime, <c>mlflow.pyfunc</c>
    /// open), and the ML.NET <c>.zip</c> (what ML.NET itself loads) as the run artifact
    /// <c>mlnet/&lt;trainer&gt;.zip</c>, as <see cref="MlflowModelOptions"/> has no extra files. Both are written to
    /// <paramref name="workDir"/> first.
    /// </summary>
    public static LoggedModelInfo LogModel(ActiveRun run, MLContext ml, SentimentModel model, string workDir)
    {
        var zip = model.Save(ml, Path.Combine(workDir, model.Name + ".zip"));
        run.LogArtifact(zip, MlNetArtifactPath);
        var onnx = model.ExportOnnx(ml, Path.Combine(workDir, model.Name + ".onnx"));
        return run.LogModel("model", onnx, new MlflowModelOptions
        {
            Metadata = new Dictionary<string, string>
            {
                ["framework"] = "ML.NET " + SentimentModels.MlNetVersion,
                ["trainer"] = model.Name,
                ["exported_with"] = "Microsoft.ML.OnnxConverter",
                ["mlnet_model"] = $"{MlNetArtifactPath}/{model.Name}.zip",
            },
        });
    }
}
