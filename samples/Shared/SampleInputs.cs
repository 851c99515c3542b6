using Mlflow.Client;

namespace Mlflow.Samples;

/// <summary>The evaluation dataset and the model, as each sample logs them to a run.</summary>
internal static class SampleInputs
{
    /// <summary>Logs the test split as the run's evaluation dataset (context <c>eval</c>).</summary>
    public static void LogEvaluationDataset(ActiveRun run, string testCsv)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(testCsv);
        // Filled in by the merge of LogInput.
    }

    /// <summary>Logs the ML.NET model file as the run's model at artifact path <c>model</c>.</summary>
    public static void LogModel(ActiveRun run, string modelZip)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(modelZip);
        // Filled in by the merge of LogModel.
    }
}
