using System.Globalization;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// Evaluates predictions the way <c>mlflow.evaluate</c>'s default evaluator does and names the metrics as it logs them,
/// so runs evaluated from C# and from Python compare in one table. Log a result with
/// <see cref="EvaluationRunExtensions.LogEvaluation"/>.
/// </summary>
/// <remarks>
/// Classifier (MLflow's <c>model_type="classifier"</c>): <c>example_count</c>, <c>accuracy_score</c>,
/// <c>precision_score</c>, <c>recall_score</c>, <c>f1_score</c> (binary: of the positive label, with
/// <c>true_negatives</c>, <c>false_positives</c>, <c>false_negatives</c>, <c>true_positives</c>; multiclass: weighted
/// averages), and with binary scores <c>log_loss</c>, <c>roc_auc</c> and <c>precision_recall_auc</c> (average precision, as MLflow). Text: per example <c>token_count</c> (words unless
/// <see cref="TextEvaluationOptions.TokenCounter"/> counts tiktoken tokens as MLflow), <c>char_count</c>, <c>flesch_kincaid_grade_level/v1/score</c>,
/// <c>ari_grade_level/v1/score</c>, the reference metrics of the model type, and <c>latency</c> when timed; each
/// per-example metric is aggregated as MLflow does: <c>/mean</c>, <c>/variance</c> (population) and <c>/p90</c>
/// (linear interpolation). <c>exact_match/v1</c> and <c>bleu/v1</c> are single numbers. <c>token_f1/v1</c> and
/// <c>bleu/v1</c> are not MLflow 2.12 built-ins and follow its naming.
/// </remarks>
public static class Evaluator
{
    /// <summary>Evaluates a classifier from string labels.</summary>
    /// <param name="targets">The true labels.</param>
    /// <param name="predictions">The predicted labels.</param>
    /// <param name="options">Positive label, scores, label order, table columns.</param>
    /// <returns>The result.</returns>
    public static EvaluationResult EvaluateClassifier(IReadOnlyList<string> targets, IReadOnlyList<string> predictions, ClassifierEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(predictions);
        options ??= new ClassifierEvaluationOptions();
        var labels = options.Labels ?? targets.Concat(predictions).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return Classify(targets, predictions, labels, options, targets.Cast<object?>().ToList(), predictions.Cast<object?>().ToList());
    }

    /// <summary>Evaluates a classifier from integer labels (sorted by value; positive label 1 by default, as MLflow).</summary>
    /// <inheritdoc cref="EvaluateClassifier(IReadOnlyList{string}, IReadOnlyList{string}, ClassifierEvaluationOptions?)"/>
    public static EvaluationResult EvaluateClassifier(IReadOnlyList<int> targets, IReadOnlyList<int> predictions, ClassifierEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(predictions);
        options ??= new ClassifierEvaluationOptions();
        var labels = options.Labels ?? targets.Concat(predictions).Distinct().Order().Select(Text).ToList();
        if (options.PositiveLabel is null && labels.Count == 2 && labels.Contains("1", StringComparer.Ordinal))
        {
            options = options with { PositiveLabel = "1" };
        }

        return Classify(targets.Select(Text).ToList(), predictions.Select(Text).ToList(), labels, options, targets.Cast<object?>().ToList(), predictions.Cast<object?>().ToList());
    }

    /// <summary>Evaluates generated texts, against references when given.</summary>
    /// <param name="predictions">The generated texts.</param>
    /// <param name="references">The expected texts (one per prediction), or <see langword="null"/>.</param>
    /// <param name="options">Model type, latencies, table columns.</param>
    /// <returns>The result.</returns>
    public static EvaluationResult EvaluateText(IReadOnlyList<string> predictions, IReadOnlyList<string>? references = null, TextEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        options ??= new TextEvaluationOptions();
        if (references is not null && references.Count != predictions.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions but {references.Count} references.", nameof(references));
        }

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var scoreColumns = new List<(string Name, IReadOnlyList<object?> Values)>();
        void PerExample(string name, Func<int, double> score)
        {
            var scores = Enumerable.Range(0, predictions.Count).Select(score).ToList();
            scoreColumns.Add(($"{name}/score", scores.Cast<object?>().ToList()));
            Aggregate(metrics, name, scores);
        }

        if (references is not null && options.ModelType == TextModelType.QuestionAnswering)
        {
            metrics["exact_match/v1"] = predictions.Count == 0 ? double.NaN : Enumerable.Range(0, predictions.Count).Average(i => TextMetrics.ExactMatch(predictions[i], references[i]));
            PerExample("token_f1/v1", i => TextMetrics.TokenF1(predictions[i], references[i]));
        }

        if (references is not null && options.ModelType == TextModelType.TextSummarization)
        {
            PerExample("rouge1/v1", i => TextMetrics.RougeN(predictions[i], references[i], 1));
            PerExample("rouge2/v1", i => TextMetrics.RougeN(predictions[i], references[i], 2));
            PerExample("rougeL/v1", i => TextMetrics.RougeL(predictions[i], references[i]));
            PerExample("rougeLsum/v1", i => TextMetrics.RougeLsum(predictions[i], references[i]));
            metrics["bleu/v1"] = TextMetrics.Bleu(predictions, references);
        }

        PerExample("flesch_kincaid_grade_level/v1", i => Readability.FleschKincaidGrade(predictions[i]));
        PerExample("ari_grade_level/v1", i => Readability.AutomatedReadabilityIndex(predictions[i]));
        var countTokens = options.TokenCounter ?? TextMetrics.WordCount;
        scoreColumns.Add(("token_count", predictions.Select(p => (object?)countTokens(p)).ToList()));
        scoreColumns.Add(("char_count", predictions.Select(p => (object?)TextMetrics.CharacterCount(p)).ToList()));
        var table = Table(options, predictions.Count, references?.Cast<object?>().ToList(), predictions.Cast<object?>().ToList(), scoreColumns);
        return new EvaluationResult(metrics, table, null);
    }

    /// <summary>MLflow's <c>standard_aggregations</c>: mean, population variance and the 90th percentile (numpy's linear interpolation).</summary>
    internal static void Aggregate(Dictionary<string, double> metrics, string name, IReadOnlyList<double> scores)
    {
        if (scores.Count == 0)
        {
            return;
        }

        var mean = scores.Average();
        metrics[$"{name}/mean"] = mean;
        metrics[$"{name}/variance"] = scores.Sum(s => (s - mean) * (s - mean)) / scores.Count;
        metrics[$"{name}/p90"] = Percentile(scores, 90);
    }

    internal static double Percentile(IReadOnlyList<double> values, double percent)
    {
        var sorted = values.Order().ToArray();
        var position = percent / 100 * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }

    private static EvaluationResult Classify(IReadOnlyList<string> targets, IReadOnlyList<string> predictions, IReadOnlyList<string> labels, ClassifierEvaluationOptions options, IReadOnlyList<object?> targetCells, IReadOnlyList<object?> outputCells)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        ClassificationReport report;
        if (options.PositiveScores is not null && labels.Count != 2)
        {
            throw new ArgumentException($"Scores are for a binary classifier, which has two labels; found {labels.Count}. Name both in Labels when one never occurs.", nameof(options));
        }

        if (labels.Count == 2)
        {
            var positive = options.PositiveLabel ?? labels[^1];
            if (!labels.Contains(positive, StringComparer.Ordinal))
            {
                throw new ArgumentException($"The positive label '{positive}' is not one of the labels.", nameof(options));
            }

            report = ClassificationMetrics.ComputeBinary(targets, predictions, options.PositiveScores, positive, labels);
            var p = report.Labels.ToList().IndexOf(positive);
            var n = 1 - p;
            var cm = report.ConfusionMatrix;
            metrics["true_negatives"] = cm[n, n];
            metrics["false_positives"] = cm[n, p];
            metrics["false_negatives"] = cm[p, n];
            metrics["true_positives"] = cm[p, p];
            AddCommon(metrics, report, report.PerClass[positive]);
            if (report.LogLoss is { } logLoss)
            {
                metrics["log_loss"] = logLoss;
            }

            if (report.RocAuc is { } auc)
            {
                metrics["roc_auc"] = auc;
            }

            if (report.AveragePrecision is { } ap)
            {
                metrics["precision_recall_auc"] = ap;
            }
        }
        else
        {
            report = ClassificationMetrics.Compute(targets, predictions, labels);
            AddCommon(metrics, report, report.Weighted);
        }

        var table = Table(options, targets.Count, targetCells, outputCells, []);
        return new EvaluationResult(metrics, table, report);
    }

    private static void AddCommon(Dictionary<string, double> metrics, ClassificationReport report, ClassScores scores)
    {
        metrics["example_count"] = report.ExampleCount;
        metrics["accuracy_score"] = report.Accuracy;
        metrics["recall_score"] = scores.Recall;
        metrics["precision_score"] = scores.Precision;
        metrics["f1_score"] = scores.F1;
    }

    private static MlflowTable Table(EvaluationOptions options, int count, IReadOnlyList<object?>? targets, IReadOnlyList<object?> outputs, List<(string Name, IReadOnlyList<object?> Values)> scores)
    {
        var columns = new List<(string Name, IReadOnlyList<object?> Values)>();
        foreach (var (name, values) in options.Inputs ?? new Dictionary<string, IReadOnlyList<object?>>())
        {
            columns.Add((name, values));
        }

        if (targets is not null)
        {
            columns.Add((options.TargetColumn, targets));
        }

        columns.Add((options.OutputColumn, outputs));
        columns.AddRange(scores);
        if (options.Latencies is { } latencies)
        {
            columns.Add(("latency", latencies.Select(l => (object?)l.TotalSeconds).ToList()));
        }

        foreach (var (name, values) in columns)
        {
            if (values.Count != count)
            {
                throw new ArgumentException($"The column '{name}' has {values.Count} values for {count} examples.", nameof(options));
            }
        }

        var rows = Enumerable.Range(0, count).Select(i => (IReadOnlyList<object?>)columns.Select(c => c.Values[i]).ToArray()).ToList();
        return MlflowTable.FromRows(columns.Select(c => c.Name).ToList(), rows);
    }

    private static string Text(int label) => label.ToString(CultureInfo.InvariantCulture);
}
