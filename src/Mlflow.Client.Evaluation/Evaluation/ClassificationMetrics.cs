using System.Globalization;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// Classification metrics computed from labels, in pure C#, as scikit-learn 1.2 computes them: labels are sorted
/// (integers by value, strings by ordinal code points) unless an order is given; a ratio with a zero denominator is 0
/// (scikit-learn's <c>zero_division="warn"</c> result).
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>Computes the report from string labels.</summary>
    /// <param name="actual">The true labels.</param>
    /// <param name="predicted">The predicted labels, one per true label.</param>
    /// <param name="labels">The label order; <see langword="null"/> means the sorted union of both lists.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, or a label is not in <paramref name="labels"/>.</exception>
    public static ClassificationReport Compute(IReadOnlyList<string> actual, IReadOnlyList<string> predicted, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        labels ??= actual.Concat(predicted).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return Build(actual, predicted, labels);
    }

    /// <summary>Computes the report from integer labels (sorted by value; the label texts are their invariant digits).</summary>
    /// <inheritdoc cref="Compute(IReadOnlyList{string}, IReadOnlyList{string}, IReadOnlyList{string}?)"/>
    public static ClassificationReport Compute(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, IReadOnlyList<int>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        var order = (labels ?? actual.Concat(predicted).Distinct().Order().ToList()).Select(Text).ToList();
        return Build(actual.Select(Text).ToList(), predicted.Select(Text).ToList(), order);
    }

    /// <summary>
    /// Computes the report of a binary classifier with the positive class's scores: adds <see cref="ClassificationReport.LogLoss"/>
    /// and <see cref="ClassificationReport.RocAuc"/> (<see langword="null"/> when only one class occurs in <paramref name="actual"/>).
    /// </summary>
    /// <param name="actual">The true labels.</param>
    /// <param name="predicted">The predicted labels.</param>
    /// <param name="positiveScores">The probability of <paramref name="positiveLabel"/> for each example, in [0, 1].</param>
    /// <param name="positiveLabel">The positive label.</param>
    /// <param name="labels">The label order; <see langword="null"/> means the sorted union of both lists and the positive label.</param>
    /// <returns>The report.</returns>
    public static ClassificationReport ComputeBinary(IReadOnlyList<string> actual, IReadOnlyList<string> predicted, IReadOnlyList<double>? positiveScores, string positiveLabel, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(positiveLabel);
        labels ??= actual.Concat(predicted).Append(positiveLabel).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (labels.Count > 2)
        {
            throw new ArgumentException($"A binary evaluation has at most two labels; found {labels.Count}.", nameof(actual));
        }

        var report = Build(actual, predicted, labels);
        if (positiveScores is null)
        {
            return new ClassificationReport(report.ConfusionMatrix, report.PerClass, report.Macro, report.Micro, report.Weighted, report.Accuracy) { PositiveLabel = positiveLabel };
        }

        if (positiveScores.Count != actual.Count)
        {
            throw new ArgumentException($"{positiveScores.Count} scores for {actual.Count} labels.", nameof(positiveScores));
        }

        var isPositive = actual.Select(a => string.Equals(a, positiveLabel, StringComparison.Ordinal)).ToList();
        var bothClasses = isPositive.Contains(true) && isPositive.Contains(false);
        return new ClassificationReport(report.ConfusionMatrix, report.PerClass, report.Macro, report.Micro, report.Weighted, report.Accuracy)
        {
            PositiveLabel = positiveLabel,
            LogLoss = BinaryLogLoss(isPositive, positiveScores),
            RocAuc = bothClasses ? BinaryRocAuc(isPositive, positiveScores) : null,
            AveragePrecision = bothClasses ? AveragePrecision(isPositive, positiveScores) : null,
        };
    }

    /// <inheritdoc cref="ComputeBinary(IReadOnlyList{string}, IReadOnlyList{string}, IReadOnlyList{double}?, string, IReadOnlyList{string}?)"/>
    public static ClassificationReport ComputeBinary(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, IReadOnlyList<double>? positiveScores, int positiveLabel = 1)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        var order = actual.Concat(predicted).Append(positiveLabel).Distinct().Order().Select(Text).ToList();
        return ComputeBinary(actual.Select(Text).ToList(), predicted.Select(Text).ToList(), positiveScores, Text(positiveLabel), order);
    }

    /// <summary>
    /// Binary log loss (cross-entropy) as scikit-learn's <c>log_loss</c> with a 1-D score: each probability is clipped to
    /// [ε, 1−ε] with ε the double machine epsilon, and the mean of −log p(actual class) is returned.
    /// </summary>
    /// <param name="isPositive">Whether each example's true label is the positive class.</param>
    /// <param name="positiveScores">The predicted probability of the positive class.</param>
    /// <returns>The mean loss.</returns>
    public static double BinaryLogLoss(IReadOnlyList<bool> isPositive, IReadOnlyList<double> positiveScores)
    {
        CheckPairs(isPositive, positiveScores);
        const double eps = 2.220446049250313e-16; // numpy's finfo(float64).eps, scikit-learn 1.2's eps="auto"
        var sum = 0.0;
        for (var i = 0; i < isPositive.Count; i++)
        {
            // scikit-learn builds the pair (1 - p, p), clips each to [eps, 1 - eps] and renormalizes it (a no-op but for rounding).
            var p = positiveScores[i];
            sum += -Math.Log(isPositive[i] ? Math.Clamp(p, eps, 1 - eps) : Math.Clamp(1 - p, eps, 1 - eps));
        }

        return sum / isPositive.Count;
    }

    /// <summary>
    /// Binary ROC AUC as scikit-learn's <c>roc_auc_score</c>: the probability that a random positive scores above a random
    /// negative, ties counting one half (equal to the trapezoidal area under the ROC curve).
    /// </summary>
    /// <param name="isPositive">Whether each example's true label is the positive class (both classes must occur).</param>
    /// <param name="scores">The score of the positive class.</param>
    /// <returns>The area, in [0, 1].</returns>
    /// <exception cref="ArgumentException">Only one class occurs.</exception>
    public static double BinaryRocAuc(IReadOnlyList<bool> isPositive, IReadOnlyList<double> scores)
    {
        CheckPairs(isPositive, scores);
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positiveRankSum = 0;
        long positives = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            var averageRank = (start + end + 2) / 2.0; // ranks are 1-based; tied scores share their mean rank
            for (var k = start; k <= end; k++)
            {
                if (isPositive[order[k]])
                {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }

            start = end + 1;
        }

        var negatives = scores.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new ArgumentException("ROC AUC needs both classes among the true labels.", nameof(isPositive));
        }

        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision as scikit-learn's <c>average_precision_score</c> (what MLflow logs as <c>precision_recall_auc</c>):
    /// Σ (Rₖ − Rₖ₋₁) · Pₖ over the distinct scores from the highest down, tied scores forming one threshold.
    /// </summary>
    /// <param name="isPositive">Whether each example's true label is the positive class (at least one positive).</param>
    /// <param name="scores">The score of the positive class.</param>
    /// <returns>The average precision, in [0, 1].</returns>
    /// <exception cref="ArgumentException">No positive example.</exception>
    public static double AveragePrecision(IReadOnlyList<bool> isPositive, IReadOnlyList<double> scores)
    {
        CheckPairs(isPositive, scores);
        var positives = isPositive.Count(p => p);
        if (positives == 0)
        {
            throw new ArgumentException("Average precision needs a positive example.", nameof(isPositive));
        }

        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        long truePositives = 0, falsePositives = 0;
        double previousRecall = 0, sum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            for (var k = start; k <= end; k++)
            {
                if (isPositive[order[k]])
                {
                    truePositives++;
                }
                else
                {
                    falsePositives++;
                }
            }

            var recall = (double)truePositives / positives;
            sum += (recall - previousRecall) * truePositives / (truePositives + falsePositives);
            previousRecall = recall;
            start = end + 1;
        }

        return sum;
    }

    private static ClassificationReport Build(IReadOnlyList<string> actual, IReadOnlyList<string> predicted, IReadOnlyList<string> labels)
    {
        if (actual.Count != predicted.Count)
        {
            throw new ArgumentException($"{actual.Count} true labels but {predicted.Count} predictions.", nameof(predicted));
        }

        if (actual.Count == 0 || labels.Count == 0)
        {
            throw new ArgumentException("Nothing to evaluate: no examples.", nameof(actual));
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++)
        {
            if (!index.TryAdd(labels[i], i))
            {
                throw new ArgumentException($"The label '{labels[i]}' is listed twice.", nameof(labels));
            }
        }

        var n = labels.Count;
        var counts = new long[n, n];
        for (var k = 0; k < actual.Count; k++)
        {
            counts[Index(index, actual[k]), Index(index, predicted[k])]++;
        }

        var perClass = new Dictionary<string, ClassScores>(StringComparer.Ordinal);
        long total = actual.Count, correct = 0, tpSum = 0, fpSum = 0, fnSum = 0;
        double macroP = 0, macroR = 0, macroF = 0, weightedP = 0, weightedR = 0, weightedF = 0;
        for (var c = 0; c < n; c++)
        {
            long tp = counts[c, c], predictedAs = 0, support = 0;
            for (var o = 0; o < n; o++)
            {
                predictedAs += counts[o, c];
                support += counts[c, o];
            }

            correct += tp;
            tpSum += tp;
            fpSum += predictedAs - tp;
            fnSum += support - tp;
            var scores = Scores(tp, predictedAs, support);
            perClass[labels[c]] = scores;
            macroP += scores.Precision;
            macroR += scores.Recall;
            macroF += scores.F1;
            weightedP += scores.Precision * support;
            weightedR += scores.Recall * support;
            weightedF += scores.F1 * support;
        }

        var macro = new ClassScores(macroP / n, macroR / n, macroF / n, total);
        var micro = Scores(tpSum, tpSum + fpSum, tpSum + fnSum) with { Support = total };
        var weighted = new ClassScores(weightedP / total, weightedR / total, weightedF / total, total);
        return new ClassificationReport(new ConfusionMatrix(labels.ToList(), counts), perClass, macro, micro, weighted, (double)correct / total);
    }

    private static ClassScores Scores(long truePositives, long predictedPositives, long actualPositives)
    {
        var precision = predictedPositives == 0 ? 0 : (double)truePositives / predictedPositives;
        var recall = actualPositives == 0 ? 0 : (double)truePositives / actualPositives;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new ClassScores(precision, recall, f1, actualPositives);
    }

    private static int Index(Dictionary<string, int> index, string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        return index.TryGetValue(label, out var i) ? i : throw new ArgumentException($"The label '{label}' is not among the given labels.", nameof(label));
    }

    private static void CheckPairs<T>(IReadOnlyList<bool> isPositive, IReadOnlyList<T> scores)
    {
        ArgumentNullException.ThrowIfNull(isPositive);
        ArgumentNullException.ThrowIfNull(scores);
        if (isPositive.Count != scores.Count || isPositive.Count == 0)
        {
            throw new ArgumentException($"Expected one score per label and at least one example; got {scores.Count} scores for {isPositive.Count} labels.", nameof(scores));
        }
    }

    private static string Text(int label) => label.ToString(CultureInfo.InvariantCulture);
}
