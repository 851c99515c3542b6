using Mlflow.Client;

namespace Mlflow.Samples;

/// <summary>The evaluation dataset and the model, as each sample logs them to a run.</summary>
internal static class SampleInputs
{
    /// <summary>
    /// Logs the test split as the run's evaluation dataset (context <c>eval</c>): name <see cref="ReviewData.DatasetName"/>,
    /// source the shipped CSV file, schema and profile from the rows.
    /// </summary>
    public static void LogEvaluationDataset(ActiveRun run, IReadOnlyList<Review> test)
        => run.LogInput(MlflowDataset.FromRows(test, ReviewData.DatasetName, ReviewData.CsvPath), context: "eval");

    /// <summary>Logs the ML.NET model file (<c>.zip</c>, MLflow's <c>files</c> flavor) as the run's model at artifact path <c>model</c>.</summary>
    public static LoggedModelInfo LogModel(ActiveRun run, string modelZip, string trainer)
        => run.LogModel("model", modelZip, new MlflowModelOptions
        {
            Metadata = new Dictionary<string, string> { ["framework"] = "ML.NET " + SentimentModels.MlNetVersion, ["trainer"] = trainer },
        });
}
