using Mlflow.Client.Evaluation;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation;

/// <summary>
/// Every expected number here was computed by scikit-learn 1.2.1 (Debian's /usr/bin/python3) with the snippet quoted
/// above each test; tolerance 1e-9.
/// </summary>
public sealed class ClassificationMetricsTests
{
    private const double Tol = 1e-9;

    private static readonly string[] AnimalsTrue = ["cat", "dog", "bird", "dog", "cat", "cat", "bird", "dog", "fish", "cat", "dog", "bird"];
    private static readonly string[] AnimalsPred = ["cat", "dog", "dog", "dog", "bird", "cat", "bird", "cat", "cat", "cat", "dog", "fish"];
    private static readonly int[] BinaryTrue = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0];
    private static readonly int[] BinaryPred = [0, 1, 0, 0, 1, 1, 1, 1, 0, 1];

    // from sklearn import metrics as m
    // yt, yp = AnimalsTrue, AnimalsPred
    // m.accuracy_score(yt, yp) -> 0.5833333333333334
    // for avg in ["macro", "micro", "weighted"]: m.precision_score(yt, yp, average=avg), m.recall_score(...), m.f1_score(...)
    //   macro    0.4625              0.4583333333333333  0.4541666666666666
    //   micro    0.5833333333333334  0.5833333333333334  0.5833333333333334
    //   weighted 0.5750000000000001  0.5833333333333334  0.5722222222222222
    // m.precision_score(yt, yp, average=None) -> [0.5, 0.6, 0.75, 0.0]; recall -> [0.3333333333333333, 0.75, 0.75, 0.0]
    // m.f1_score(yt, yp, average=None) -> [0.4, 0.6666666666666665, 0.75, 0.0]
    // m.confusion_matrix(yt, yp).tolist() -> [[1, 0, 1, 1], [1, 3, 0, 0], [0, 1, 3, 0], [0, 1, 0, 0]]  (labels bird, cat, dog, fish)
    [Test]
    public void Multiclass_string_labels_agree_with_scikit_learn()
    {
        var r = ClassificationMetrics.Compute(AnimalsTrue, AnimalsPred);

        Assert.That(r.Labels, Is.EqualTo(new[] { "bird", "cat", "dog", "fish" }));
        Assert.That(r.Accuracy, Is.EqualTo(0.5833333333333334).Within(Tol));
        AssertScores(r.Macro, 0.4625, 0.4583333333333333, 0.4541666666666666);
        AssertScores(r.Micro, 0.5833333333333334, 0.5833333333333334, 0.5833333333333334);
        AssertScores(r.Weighted, 0.5750000000000001, 0.5833333333333334, 0.5722222222222222);
        AssertScores(r.PerClass["bird"], 0.5, 0.3333333333333333, 0.4);
        AssertScores(r.PerClass["cat"], 0.6, 0.75, 0.6666666666666665);
        AssertScores(r.PerClass["dog"], 0.75, 0.75, 0.75);
        AssertScores(r.PerClass["fish"], 0.0, 0.0, 0.0);
        Assert.That(r.PerClass["cat"].Support, Is.EqualTo(4));
        long[][] expected = [[1, 0, 1, 1], [1, 3, 0, 0], [0, 1, 3, 0], [0, 1, 0, 0]];
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                Assert.That(r.ConfusionMatrix[i, j], Is.EqualTo(expected[i][j]), $"cell {i},{j}");
            }
        }

        Assert.That(r.ExampleCount, Is.EqualTo(12));
        Assert.That(r.LogLoss, Is.Null);
    }

    // it = [10, 2, 1, 2, 10, 1, 2, 2]; ip = [10, 2, 2, 2, 1, 1, 10, 2]
    // m.confusion_matrix(it, ip).tolist() -> [[1, 1, 0], [0, 3, 1], [1, 0, 1]]   (labels 1, 2, 10: numeric order)
    // m.f1_score(it, ip, average="weighted") -> 0.625; precision weighted -> 0.625; recall weighted -> 0.625
    // m.f1_score(it, ip, average="macro") -> 0.5833333333333334
    [Test]
    public void Integer_labels_sort_by_value_not_as_text()
    {
        var r = ClassificationMetrics.Compute([10, 2, 1, 2, 10, 1, 2, 2], [10, 2, 2, 2, 1, 1, 10, 2]);

        Assert.That(r.Labels, Is.EqualTo(new[] { "1", "2", "10" }));
        Assert.That(r.ConfusionMatrix[0, 1], Is.EqualTo(1));
        Assert.That(r.ConfusionMatrix[1, 2], Is.EqualTo(1));
        Assert.That(r.ConfusionMatrix[2, 0], Is.EqualTo(1));
        AssertScores(r.Weighted, 0.625, 0.625, 0.625);
        Assert.That(r.Macro.F1, Is.EqualTo(0.5833333333333334).Within(Tol));
    }

    // bt = [0,1,1,0,1,0,1,1,0,0]; bp = [0,1,0,0,1,1,1,1,0,1]; sc = [0.1,0.9,0.35,0.2,0.8,0.6,0.7,0.65,0.3,0.6]
    // m.accuracy_score(bt, bp) -> 0.7; m.precision_score(bt, bp) -> 0.6666666666666666; m.recall_score -> 0.8; m.f1_score -> 0.7272727272727272
    // m.log_loss(bt, sc) -> 0.4683544526160979; m.roc_auc_score(bt, sc) -> 0.92
    // m.confusion_matrix(bt, bp).ravel().tolist() -> [3, 2, 1, 4]   (tn, fp, fn, tp)
    // m.f1_score(bt, bp, average="weighted") -> 0.6969696969696969; m.precision_score(bt, bp, average="macro") -> 0.7083333333333333
    [Test]
    public void Binary_labels_and_scores_agree_with_scikit_learn()
    {
        double[] scores = [0.1, 0.9, 0.35, 0.2, 0.8, 0.6, 0.7, 0.65, 0.3, 0.6];
        var r = ClassificationMetrics.ComputeBinary(BinaryTrue, BinaryPred, scores);

        Assert.That(r.PositiveLabel, Is.EqualTo("1"));
        Assert.That(r.Accuracy, Is.EqualTo(0.7).Within(Tol));
        AssertScores(r.PerClass["1"], 0.6666666666666666, 0.8, 0.7272727272727272);
        Assert.That(r.LogLoss!.Value, Is.EqualTo(0.4683544526160979).Within(Tol));
        Assert.That(r.RocAuc!.Value, Is.EqualTo(0.92).Within(Tol));
        // m.average_precision_score(bt, sc) -> 0.9428571428571428
        Assert.That(r.AveragePrecision!.Value, Is.EqualTo(0.9428571428571428).Within(Tol));
        Assert.That(r.Weighted.F1, Is.EqualTo(0.6969696969696969).Within(Tol));
        Assert.That(r.Macro.Precision, Is.EqualTo(0.7083333333333333).Within(Tol));
        Assert.That(new[] { r.ConfusionMatrix[0, 0], r.ConfusionMatrix[0, 1], r.ConfusionMatrix[1, 0], r.ConfusionMatrix[1, 1] }, Is.EqualTo(new long[] { 3, 2, 1, 4 }));
    }

    // sc = [0.1,0.9,0.35,0.2,0.8,0.6,0.7,0.6,0.3,0.6]  (a positive tied with two negatives at 0.6)
    // m.roc_auc_score(bt, sc) -> 0.8799999999999999; m.log_loss(bt, sc) -> 0.47635872338345153
    // m.average_precision_score(bt, sc) -> 0.8761904761904762 (and 0.9428571428571428 for the untied scores above)
    // sc2 = [0.0,1.0,0.35,0.2,0.8,0.6,0.7,0.6,1.0,0.6]  (0 and 1 are clipped to eps, 1 - eps)
    // m.log_loss(bt, sc2) -> 4.023984464769728
    [Test]
    public void Tied_scores_count_one_half_and_certain_scores_are_clipped_as_scikit_learn()
    {
        var positive = BinaryTrue.Select(v => v == 1).ToList();
        double[] tied = [0.1, 0.9, 0.35, 0.2, 0.8, 0.6, 0.7, 0.6, 0.3, 0.6];
        double[] extreme = [0.0, 1.0, 0.35, 0.2, 0.8, 0.6, 0.7, 0.6, 1.0, 0.6];

        Assert.That(ClassificationMetrics.BinaryRocAuc(positive, tied), Is.EqualTo(0.8799999999999999).Within(Tol));
        Assert.That(ClassificationMetrics.BinaryLogLoss(positive, tied), Is.EqualTo(0.47635872338345153).Within(Tol));
        Assert.That(ClassificationMetrics.AveragePrecision(positive, tied), Is.EqualTo(0.8761904761904762).Within(Tol));
        Assert.That(ClassificationMetrics.BinaryLogLoss(positive, extreme), Is.EqualTo(4.023984464769728).Within(Tol));
    }

    [Test]
    public void Mismatched_or_unknown_labels_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(["a", "b"], ["a"]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(["a"], ["z"], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.BinaryRocAuc([true, true], [0.2, 0.4]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.ComputeBinary(["a", "b", "c"], ["a", "b", "c"], null, "a"));
    }

    [Test]
    public void Normalized_confusion_matrix_rows_sum_to_one_and_an_empty_row_stays_zero()
    {
        var m = ClassificationMetrics.Compute(["a", "a", "b"], ["a", "b", "b"], ["a", "b", "c"]).ConfusionMatrix;
        var n = m.NormalizedByActual();

        Assert.That(n[0, 0], Is.EqualTo(0.5));
        Assert.That(n[0, 1], Is.EqualTo(0.5));
        Assert.That(n[1, 1], Is.EqualTo(1.0));
        Assert.That(n[2, 0] + n[2, 1] + n[2, 2], Is.Zero);
        var table = m.ToTable();
        Assert.That(table.Columns, Is.EqualTo(new[] { "actual", "a", "b", "c" }));
        Assert.That(table.Rows[0], Is.EqualTo(new object?[] { "a", 1L, 1L, 0L }));
    }

    private static void AssertScores(ClassScores s, double precision, double recall, double f1)
    {
        Assert.That(s.Precision, Is.EqualTo(precision).Within(Tol), "precision");
        Assert.That(s.Recall, Is.EqualTo(recall).Within(Tol), "recall");
        Assert.That(s.F1, Is.EqualTo(f1).Within(Tol), "f1");
    }
}
