using Microsoft.ML.Data;

namespace Mlflow.Samples;

/// <summary>One labelled review (the ML.NET input row).</summary>
internal sealed class Review
{
    /// <summary>The review text.</summary>
    public string Text { get; set; } = "";

    /// <summary>Whether the review is positive.</summary>
    [ColumnName("Label")]
    public bool Label { get; set; }
}

/// <summary>The review set shipped with the samples (<c>samples/Shared/data/reviews.csv</c>, CC0, written for this project) and its fixed train/test split.</summary>
internal static class ReviewData
{
    /// <summary>The file, copied beside each sample's binary.</summary>
    public static string CsvPath => Path.Combine(AppContext.BaseDirectory, "data", "reviews.csv");

    /// <summary>The name the evaluation split is logged under as a run input.</summary>
    public const string DatasetName = "reviews-test";

    /// <summary>Reads every review (header <c>text,label</c>; a text with a comma is quoted).</summary>
    public static IReadOnlyList<Review> Load()
    {
        var rows = new List<Review>();
        foreach (var line in File.ReadLines(CsvPath).Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var comma = line.LastIndexOf(',');
            var text = line[..comma];
            if (text.StartsWith('"'))
            {
                text = text[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal);
            }

            rows.Add(new Review { Text = text, Label = line[(comma + 1)..].Trim() == "1" });
        }

        return rows;
    }

    /// <summary>The fixed split: the first 75 % of the (already shuffled) file train, the rest test.</summary>
    public static (IReadOnlyList<Review> Train, IReadOnlyList<Review> Test) Split(IReadOnlyList<Review> all)
    {
        var cut = all.Count * 3 / 4;
        return (all.Take(cut).ToList(), all.Skip(cut).ToList());
    }
}
