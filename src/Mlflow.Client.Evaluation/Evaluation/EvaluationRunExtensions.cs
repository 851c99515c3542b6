namespace Mlflow.Client.Evaluation;

/// <summary>Logs evaluations to a run, as <c>mlflow.evaluate</c> does.</summary>
public static class EvaluationRunExtensions
{
    /// <summary>
    /// Logs an evaluation to the run: every metric of <see cref="EvaluationResult.Metrics"/> at step 0 with one timestamp
    /// (as MLflow's evaluator logs them in one batch), the per-example table as <c>eval_results_table.json</c> and, for a
    /// classifier, the confusion matrix as <c>confusion_matrix.json</c> and (with a renderer) <c>confusion_matrix.png</c>.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="result">The evaluation.</param>
    /// <param name="renderer">Draws the confusion matrix; <see langword="null"/> logs no image.</param>
    /// <returns>The artifact files written to the run .</returns>
    public static IReadOnlyList<string> LogEvaluation(this ActiveRun run, EvaluationResult result, IPlotRenderer? renderer = null)
        => LogEvaluationWith(run, result, renderer, EvaluationArtifactSeam.Writer);

    /// <summary>Evaluates a classifier (<see cref="Evaluator.EvaluateClassifier(IReadOnlyList{string}, IReadOnlyList{string}, ClassifierEvaluationOptions?)"/>) and logs it to the run.</summary>
    /// <param name="run">The run.</param>
    /// <param name="targets">The true labels.</param>
    /// <param name="predictions">The predicted labels.</param>
    /// <param name="options">Positive label, scores, label order, table columns.</param>
    /// <param name="renderer">Draws the confusion matrix; <see langword="null"/> logs no image.</param>
    /// <returns>The result.</returns>
    public static EvaluationResult EvaluateClassifier(this ActiveRun run, IReadOnlyList<string> targets, IReadOnlyList<string> predictions, ClassifierEvaluationOptions? options = null, IPlotRenderer? renderer = null)
    {
        var result = Evaluator.EvaluateClassifier(targets, predictions, options);
        run.LogEvaluation(result, renderer);
        return result;
    }

    /// <inheritdoc cref="EvaluateClassifier(ActiveRun, IReadOnlyList{string}, IReadOnlyList{string}, ClassifierEvaluationOptions?, IPlotRenderer?)"/>
    public static EvaluationResult EvaluateClassifier(this ActiveRun run, IReadOnlyList<int> targets, IReadOnlyList<int> predictions, ClassifierEvaluationOptions? options = null, IPlotRenderer? renderer = null)
    {
        var result = Evaluator.EvaluateClassifier(targets, predictions, options);
        run.LogEvaluation(result, renderer);
        return result;
    }

    /// <summary>Evaluates generated texts (<see cref="Evaluator.EvaluateText"/>) and logs them to the run.</summary>
    /// <param name="run">The run.</param>
    /// <param name="predictions">The generated texts.</param>
    /// <param name="references">The expected texts, or <see langword="null"/>.</param>
    /// <param name="options">Model type, latencies, table columns.</param>
    /// <returns>The result.</returns>
    public static EvaluationResult EvaluateText(this ActiveRun run, IReadOnlyList<string> predictions, IReadOnlyList<string>? references = null, TextEvaluationOptions? options = null)
    {
        var result = Evaluator.EvaluateText(predictions, references, options);
        run.LogEvaluation(result);
        return result;
    }

    internal static IReadOnlyList<string> LogEvaluationWith(ActiveRun run, EvaluationResult result, IPlotRenderer? renderer, IEvaluationArtifactWriter writer)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(result);
        run.LogMetrics(result.Metrics);
        var written = new List<string>();
        if (writer.WriteTable(run, EvaluationResult.TableArtifactFile, result.PerExample))
        {
            written.Add(EvaluationResult.TableArtifactFile);
        }

        if (result.ConfusionMatrix is { } matrix)
        {
            if (writer.WriteTable(run, EvaluationResult.ConfusionMatrixTableFile, matrix.ToTable()))
            {
                written.Add(EvaluationResult.ConfusionMatrixTableFile);
            }

            if (renderer is not null && writer.WriteImage(run, EvaluationResult.ConfusionMatrixImageFile, renderer.RenderConfusionMatrix(matrix, "Normalized confusion matrix")))
            {
                written.Add(EvaluationResult.ConfusionMatrixImageFile);
            }
        }

        return written;
    }
}

/// <summary>Writes an evaluation's table and image files to a run.</summary>
internal interface IEvaluationArtifactWriter
{
    /// <summary>Writes <paramref name="table"/> as <c>mlflow.log_table</c> does (MLflow's table JSON, listed in the run's <c>mlflow.loggedArtifacts</c> tag as type <c>table</c>).</summary>
    /// <returns>Whether the file was written.</returns>
    bool WriteTable(ActiveRun run, string artifactFile, MlflowTable table);

    /// <summary>Writes PNG bytes as <c>mlflow.log_image</c> does.</summary>
    /// <returns>Whether the file was written.</returns>
    bool WriteImage(ActiveRun run, string artifactFile, byte[] png);
}

/// <summary>The writer <see cref="EvaluationRunExtensions.LogEvaluation"/> uses: the run's own <c>LogTable</c> and <c>LogImage</c>.</summary>
internal static class EvaluationArtifactSeam
{
    internal static IEvaluationArtifactWriter Writer { get; } = new RunArtifactWriter();

    private sealed class RunArtifactWriter : IEvaluationArtifactWriter
    {
        public bool WriteTable(ActiveRun run, string artifactFile, MlflowTable table)
        {
            run.LogTable(table, artifactFile);
            return true;
        }

        public bool WriteImage(ActiveRun run, string artifactFile, byte[] png)
        {
            run.LogImage(png, artifactFile);
            return true;
        }
    }
}
