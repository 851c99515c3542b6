namespace Mlflow.Client.Evaluation;

/// <summary>
/// Counts of (actual, predicted) label pairs, as scikit-learn's <c>confusion_matrix</c>: row <c>i</c> is the actual
/// label <c>Labels[i]</c>, column <c>j</c> the predicted label <c>Labels[j]</c>.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    internal ConfusionMatrix(IReadOnlyList<string> labels, long[,] counts)
    {
        Labels = labels;
        _counts = counts;
    }

    /// <summary>The label order of rows and columns (sorted as scikit-learn sorts them, unless the caller gave an order).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>How many examples of actual label <paramref name="actual"/> were predicted as <paramref name="predicted"/>.</summary>
    /// <param name="actual">Row index (actual label).</param>
    /// <param name="predicted">Column index (predicted label).</param>
    public long this[int actual, int predicted] => _counts[actual, predicted];

    /// <summary>The number of examples counted.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            foreach (var c in _counts)
            {
                total += c;
            }

            return total;
        }
    }

    /// <summary>
    /// The matrix normalized over each actual label (each row sums to 1; a row with no example stays 0), as MLflow's
    /// evaluator plots it (<c>normalize="true"</c>).
    /// </summary>
    /// <returns>A new array, rows by actual label.</returns>
    public double[,] NormalizedByActual()
    {
        var n = Labels.Count;
        var result = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            long row = 0;
            for (var j = 0; j < n; j++)
            {
                row += _counts[i, j];
            }

            for (var j = 0; j < n; j++)
            {
                result[i, j] = row == 0 ? 0 : (double)_counts[i, j] / row;
            }
        }

        return result;
    }

    /// <summary>
    /// The matrix as a table: a column <c>actual</c> with the actual label, then one column per predicted label with the counts.
    /// </summary>
    /// <returns>The table (written to the run as <c>confusion_matrix.json</c> by the evaluation).</returns>
    public MlflowTable ToTable()
    {
        var columns = new List<string>(Labels.Count + 1) { "actual" };
        columns.AddRange(Labels);
        var rows = new List<IReadOnlyList<object?>>(Labels.Count);
        for (var i = 0; i < Labels.Count; i++)
        {
            var row = new object?[Labels.Count + 1];
            row[0] = Labels[i];
            for (var j = 0; j < Labels.Count; j++)
            {
                row[j + 1] = _counts[i, j];
            }

            rows.Add(row);
        }

        return MlflowTable.FromRows(columns, rows);
    }
}
