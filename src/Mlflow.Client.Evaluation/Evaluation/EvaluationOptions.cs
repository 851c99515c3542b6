namespace Mlflow.Client.Evaluation;

/// <summary>What kind of text model is evaluated; decides the reference metrics, as MLflow's <c>model_type</c>.</summary>
public enum TextModelType
{
    /// <summary>MLflow's <c>"text"</c>: token count and readability only.</summary>
    Text,
    /// <summary>MLflow's <c>"question-answering"</c>: adds <c>exact_match/v1</c> (and <c>token_f1/v1</c>, SQuAD F1) against the references.</summary>
    QuestionAnswering,
    /// <summary>MLflow's <c>"text-summarization"</c>: adds <c>rouge1/v1</c>, <c>rouge2/v1</c>, <c>rougeL/v1</c>, <c>rougeLsum/v1</c> (and <c>bleu/v1</c>, corpus BLEU) against the references.</summary>
    TextSummarization,
}

/// <summary>Options shared by the evaluations.</summary>
public record EvaluationOptions
{
    /// <summary>Input columns to show in the per-example table before the target and outputs (one value per example each).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<object?>>? Inputs { get; init; }

    /// <summary>How long each prediction took, when the caller timed it: the table's <c>latency</c> column, in seconds as MLflow.</summary>
    public IReadOnlyList<TimeSpan>? Latencies { get; init; }

    /// <summary>The table's column of the expected values (MLflow: the <c>targets</c> name, else <c>target</c>).</summary>
    public string TargetColumn { get; init; } = "target";

    /// <summary>The table's column of the model outputs (MLflow: <c>outputs</c>).</summary>
    public string OutputColumn { get; init; } = "outputs";
}

/// <summary>Options of a classifier evaluation.</summary>
public sealed record ClassifierEvaluationOptions : EvaluationOptions
{
    /// <summary>
    /// The positive label of a binary classifier (MLflow's <c>pos_label</c>, default 1): with two labels, precision,
    /// recall and F1 are those of this class; default: the larger of the two labels (1 of 0/1, "true" of false/true).
    /// </summary>
    public string? PositiveLabel { get; init; }

    /// <summary>The label order; default: the sorted labels.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>For a binary classifier, the probability of the positive label per example: adds <c>log_loss</c> and <c>roc_auc</c>.</summary>
    public IReadOnlyList<double>? PositiveScores { get; init; }
}

/// <summary>Options of a text evaluation.</summary>
public sealed record TextEvaluationOptions : EvaluationOptions
{
    /// <summary>The model type, which decides the reference metrics.</summary>
    public TextModelType ModelType { get; init; } = TextModelType.Text;

    /// <summary>
    /// Counts the tokens of one output, for the per-example <c>token_count</c> column. MLflow counts tiktoken's
    /// <c>cl100k_base</c> tokens; the same count comes from the Microsoft.ML.Tokenizers package (with
    /// Microsoft.ML.Tokenizers.Data.Cl100kBase): <c>var tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");</c>
    /// then <c>TokenCounter = text =&gt; tokenizer.CountTokens(text)</c>.
    /// Default: whitespace-separated words (<see cref="TextMetrics.WordCount"/>), which keeps this package free of that
    /// vocabulary but does not compare with runs evaluated in Python.
    /// </summary>
    public Func<string, int>? TokenCounter { get; init; }
}
