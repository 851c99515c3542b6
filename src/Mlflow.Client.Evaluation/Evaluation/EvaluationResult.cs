namespace Mlflow.Client.Evaluation;

/// <summary>
/// What one evaluation produced: the metrics under MLflow's names, the per-example table
/// (<c>eval_results_table.json</c>) and, for a classifier, the confusion matrix and the full report.
/// </summary>
public sealed class EvaluationResult
{
    internal EvaluationResult(IReadOnlyDictionary<string, double> metrics, MlflowTable perExample, ClassificationReport? classification)
    {
        Metrics = metrics;
        PerExample = perExample;
        Classification = classification;
    }

    /// <summary>The file name MLflow gives the per-example table.</summary>
    public const string TableArtifactFile = "eval_results_table.json";

    /// <summary>The file name of the confusion matrix image (as MLflow's evaluator names it).</summary>
    public const string ConfusionMatrixImageFile = "confusion_matrix.png";

    /// <summary>The file name of the confusion matrix table.</summary>
    public const string ConfusionMatrixTableFile = "confusion_matrix.json";

    /// <summary>
    /// The aggregate metrics under the names <c>mlflow.evaluate</c> logs (<c>accuracy_score</c>, <c>f1_score</c>,
    /// <c>rouge1/v1/mean</c>, ...), in a stable order.
    /// </summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>One row per example: the inputs given, <c>target</c>, <c>outputs</c>, then per-example scores (<c>rouge1/v1/score</c>, <c>token_count</c>, <c>latency</c>...).</summary>
    public MlflowTable PerExample { get; }

    /// <summary>The classification report; <see langword="null"/> for a text evaluation.</summary>
    public ClassificationReport? Classification { get; }

    /// <summary>The confusion matrix of a classifier; <see langword="null"/> for a text evaluation.</summary>
    public ConfusionMatrix? ConfusionMatrix => Classification?.ConfusionMatrix;
}

/// <summary>
/// Draws evaluation plots. The core package has no drawing library; plug a renderer (the <c>Mlflow.Client.Plots</c>
/// package has one) to log the confusion matrix as a PNG.
/// </summary>
public interface IPlotRenderer
{
    /// <summary>Draws a confusion matrix.</summary>
    /// <param name="matrix">The matrix with its labels.</param>
    /// <param name="title">The title (MLflow's evaluator uses "Normalized confusion matrix" and plots rows normalized by actual label).</param>
    /// <returns>The PNG bytes.</returns>
    byte[] RenderConfusionMatrix(ConfusionMatrix matrix, string title);
}
