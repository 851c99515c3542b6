namespace Mlflow.Client.Evaluation;

/// <summary>Precision, recall, F1 and support of one class (one-vs-rest), or an average of them.</summary>
/// <param name="Precision">True positives over predicted positives (0 when nothing was predicted as the class, as scikit-learn's default).</param>
/// <param name="Recall">True positives over actual positives (0 when the class never occurs).</param>
/// <param name="F1">The harmonic mean of precision and recall (0 when both are 0).</param>
/// <param name="Support">How many examples have this actual label (for an average: all examples).</param>
public sealed record ClassScores(double Precision, double Recall, double F1, long Support);

/// <summary>
/// The classification metrics of one evaluation: accuracy, per-class scores, their macro, micro and weighted averages,
/// the confusion matrix and, when binary scores were given, log loss and ROC AUC. Each agrees with scikit-learn 1.2.
/// </summary>
public sealed class ClassificationReport
{
    internal ClassificationReport(ConfusionMatrix matrix, IReadOnlyDictionary<string, ClassScores> perClass, ClassScores macro, ClassScores micro, ClassScores weighted, double accuracy)
    {
        ConfusionMatrix = matrix;
        PerClass = perClass;
        Macro = macro;
        Micro = micro;
        Weighted = weighted;
        Accuracy = accuracy;
    }

    /// <summary>The label order (rows and columns of <see cref="ConfusionMatrix"/>).</summary>
    public IReadOnlyList<string> Labels => ConfusionMatrix.Labels;

    /// <summary>The number of examples.</summary>
    public long ExampleCount => ConfusionMatrix.Total;

    /// <summary>The share of examples predicted right.</summary>
    public double Accuracy { get; }

    /// <summary>Scores of each label, one-vs-rest.</summary>
    public IReadOnlyDictionary<string, ClassScores> PerClass { get; }

    /// <summary>The unweighted mean of the per-class scores (<c>average="macro"</c>).</summary>
    public ClassScores Macro { get; }

    /// <summary>Scores from the counts pooled over all classes (<c>average="micro"</c>; equal to accuracy for single-label data).</summary>
    public ClassScores Micro { get; }

    /// <summary>The mean of the per-class scores weighted by support (<c>average="weighted"</c>, MLflow's choice for multiclass).</summary>
    public ClassScores Weighted { get; }

    /// <summary>The confusion matrix with its label order.</summary>
    public ConfusionMatrix ConfusionMatrix { get; }

    /// <summary>Binary log loss of the positive-class scores, when scores were given.</summary>
    public double? LogLoss { get; init; }

    /// <summary>Binary ROC AUC of the positive-class scores, when scores were given and both classes occur.</summary>
    public double? RocAuc { get; init; }

    /// <summary>Binary average precision of the positive-class scores (MLflow's <c>precision_recall_auc</c>), when scores were given and both classes occur.</summary>
    public double? AveragePrecision { get; init; }

    /// <summary>The positive label of a binary evaluation; <see langword="null"/> for multiclass.</summary>
    public string? PositiveLabel { get; init; }
}
