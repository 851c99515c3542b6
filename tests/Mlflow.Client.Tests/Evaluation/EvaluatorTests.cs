using System.Text.Json.Nodes;
using Mlflow.Client.Artifacts;
using Mlflow.Client.Evaluation;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation;

public sealed class EvaluatorTests
{
    private const double Tol = 1e-9;

    // Binary: same data as ClassificationMetricsTests (scikit-learn 1.2.1: precision 0.6666666666666666, recall 0.8,
    // f1 0.7272727272727272, log_loss 0.4683544526160979, roc_auc 0.92, average_precision_score 0.9428571428571428,
    // tn fp fn tp = 3 2 1 4).
    [Test]
    public void A_binary_classifier_logs_mlflows_metric_names_for_the_positive_label()
    {
        var result = Evaluator.EvaluateClassifier(
            [0, 1, 1, 0, 1, 0, 1, 1, 0, 0],
            [0, 1, 0, 0, 1, 1, 1, 1, 0, 1],
            new ClassifierEvaluationOptions { PositiveScores = [0.1, 0.9, 0.35, 0.2, 0.8, 0.6, 0.7, 0.65, 0.3, 0.6] });

        Assert.That(result.Metrics.Keys, Is.EquivalentTo(new[]
        {
            "true_negatives", "false_positives", "false_negatives", "true_positives", "example_count",
            "accuracy_score", "recall_score", "precision_score", "f1_score", "log_loss", "roc_auc", "precision_recall_auc",
        }));
        Assert.That(result.Metrics["precision_score"], Is.EqualTo(0.6666666666666666).Within(Tol));
        Assert.That(result.Metrics["recall_score"], Is.EqualTo(0.8).Within(Tol));
        Assert.That(result.Metrics["f1_score"], Is.EqualTo(0.7272727272727272).Within(Tol));
        Assert.That(result.Metrics["log_loss"], Is.EqualTo(0.4683544526160979).Within(Tol));
        Assert.That(result.Metrics["roc_auc"], Is.EqualTo(0.92).Within(Tol));
        Assert.That(result.Metrics["precision_recall_auc"], Is.EqualTo(0.9428571428571428).Within(Tol));
        Assert.That(new[] { result.Metrics["true_negatives"], result.Metrics["false_positives"], result.Metrics["false_negatives"], result.Metrics["true_positives"] }, Is.EqualTo(new double[] { 3, 2, 1, 4 }));
        Assert.That(result.PerExample.Columns, Is.EqualTo(new[] { "target", "outputs" }));
        Assert.That(result.ConfusionMatrix!.Labels, Is.EqualTo(new[] { "0", "1" }));
    }

    // Multiclass: MLflow uses average="weighted" (scikit-learn 1.2.1 on the animals data: precision 0.5750000000000001,
    // recall 0.5833333333333334, f1 0.5722222222222222).
    [Test]
    public void A_multiclass_classifier_logs_weighted_averages()
    {
        var result = Evaluator.EvaluateClassifier(
            ["cat", "dog", "bird", "dog", "cat", "cat", "bird", "dog", "fish", "cat", "dog", "bird"],
            ["cat", "dog", "dog", "dog", "bird", "cat", "bird", "cat", "cat", "cat", "dog", "fish"],
            new ClassifierEvaluationOptions { Inputs = new Dictionary<string, IReadOnlyList<object?>> { ["id"] = Enumerable.Range(0, 12).Cast<object?>().ToList() } });

        Assert.That(result.Metrics.Keys, Is.EquivalentTo(new[] { "example_count", "accuracy_score", "recall_score", "precision_score", "f1_score" }));
        Assert.That(result.Metrics["precision_score"], Is.EqualTo(0.5750000000000001).Within(Tol));
        Assert.That(result.Metrics["f1_score"], Is.EqualTo(0.5722222222222222).Within(Tol));
        Assert.That(result.Metrics["example_count"], Is.EqualTo(12));
        Assert.That(result.PerExample.Columns, Is.EqualTo(new[] { "id", "target", "outputs" }));
    }

    [Test]
    public void A_question_answering_evaluation_aggregates_per_example_scores_as_mlflow()
    {
        var result = Evaluator.EvaluateText(
            ["Paris", "4", "blue whale"],
            ["Paris", "four", "the blue whale"],
            new TextEvaluationOptions { ModelType = TextModelType.QuestionAnswering, Latencies = [TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)] });

        // exact match: 1 of 3
        Assert.That(result.Metrics["exact_match/v1"], Is.EqualTo(1.0 / 3).Within(Tol));
        // token F1: 1, 0, 1 (article removed) -> mean 2/3, population variance ((1/3)^2 + (2/3)^2 + (1/3)^2)/3 = 2/9,
        // p90: sorted [0, 1, 1], position 0.9*2 = 1.8 -> 1
        Assert.That(result.Metrics["token_f1/v1/mean"], Is.EqualTo(2.0 / 3).Within(Tol));
        Assert.That(result.Metrics["token_f1/v1/variance"], Is.EqualTo(2.0 / 9).Within(Tol));
        Assert.That(result.Metrics["token_f1/v1/p90"], Is.EqualTo(1.0).Within(Tol));
        Assert.That(result.Metrics, Does.ContainKey("flesch_kincaid_grade_level/v1/mean").And.ContainKey("ari_grade_level/v1/p90"));
        Assert.That(result.Metrics, Does.Not.ContainKey("rouge1/v1/mean"));
        Assert.That(result.PerExample.Columns, Is.EqualTo(new[]
        {
            "target", "outputs", "token_f1/v1/score", "flesch_kincaid_grade_level/v1/score", "ari_grade_level/v1/score", "token_count", "char_count", "latency",
        }));
        Assert.That(result.PerExample.Column("latency"), Is.EqualTo(new object?[] { 0.25, 1.0, 2.0 }));
        Assert.That(result.PerExample.Column("char_count"), Is.EqualTo(new object?[] { 5, 1, 10 }));
    }

    [Test]
    public void A_summarization_evaluation_logs_rouge_and_bleu()
    {
        var result = Evaluator.EvaluateText(["The cat sat on the mat.", "a b c d"], ["the cat is on the mat", "a c"], new TextEvaluationOptions { ModelType = TextModelType.TextSummarization });

        // rouge1 per example 5/6 and 2/3 (see TextMetricsTests) -> mean 3/4; p90 = 2/3 + 0.9*(5/6 - 2/3) = 0.8166...
        Assert.That(result.Metrics["rouge1/v1/mean"], Is.EqualTo(0.75).Within(Tol));
        Assert.That(result.Metrics["rouge1/v1/p90"], Is.EqualTo((2.0 / 3) + (0.9 * (1.0 / 6))).Within(Tol));
        Assert.That(result.Metrics, Does.ContainKey("rouge2/v1/mean").And.ContainKey("rougeL/v1/variance").And.ContainKey("bleu/v1"));
        Assert.That(result.PerExample.Column("rougeL/v1/score"), Has.Count.EqualTo(2));
        // no line breaks: rougeLsum equals rougeL per example (5/6 and 2/3)
        Assert.That(result.PerExample.Column("rougeLsum/v1/score"), Is.EqualTo(result.PerExample.Column("rougeL/v1/score")));
        Assert.That(result.Metrics["rougeLsum/v1/mean"], Is.EqualTo(0.75).Within(Tol));
    }

    [Test]
    public void Token_count_is_words_by_default_and_mlflows_tiktoken_count_when_the_tokenizer_is_plugged_in()
    {
        string[] outputs = ["tiktoken is great!", "Hello world"];
        var byWords = Evaluator.EvaluateText(outputs, outputs);
        Assert.That(byWords.PerExample.Column("token_count"), Is.EqualTo(new object?[] { 3, 2 }));

        // The counts MLflow logs (tiktoken cl100k_base): OpenAI's cookbook "How to count tokens with tiktoken" shows
        // "tiktoken is great!" as 6 tokens ([83, 1609, 5963, 374, 2294, 0]); "Hello world" is 2 ([9906, 1917]).
        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var byTokens = Evaluator.EvaluateText(outputs, outputs, new TextEvaluationOptions { TokenCounter = text => tokenizer.CountTokens(text) });
        Assert.That(byTokens.PerExample.Column("token_count"), Is.EqualTo(new object?[] { 6, 2 }));
    }

    [Test]
    public void Scores_without_two_labels_or_an_unknown_positive_label_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Evaluator.EvaluateClassifier(["a", "a"], ["a", "a"], new ClassifierEvaluationOptions { PositiveScores = [0.9, 0.8] }));
        Assert.Throws<ArgumentException>(() => Evaluator.EvaluateClassifier(["a", "b"], ["a", "b"], new ClassifierEvaluationOptions { PositiveLabel = "c" }));
        var named = Evaluator.EvaluateClassifier(["a", "a"], ["a", "a"], new ClassifierEvaluationOptions { Labels = ["a", "b"], PositiveLabel = "b", PositiveScores = [0.1, 0.2] });
        Assert.That(named.Metrics["true_negatives"], Is.EqualTo(2));
        Assert.That(named.Metrics, Does.Not.ContainKey("roc_auc"), "one class only: no ROC AUC");
    }

    [Test]
    public void Columns_of_another_length_than_the_examples_are_refused()
        => Assert.Throws<ArgumentException>(() => Evaluator.EvaluateText(["a", "b"], null, new TextEvaluationOptions { Latencies = [TimeSpan.Zero] }));

    [Test]
    public void The_table_is_written_in_mlflows_log_table_format()
    {
        var table = MlflowTable.FromRows(["q", "score", "ok", "n"], [new object?[] { "Qu'est-ce \"x\"", 0.5, true, 3 }, new object?[] { null, double.NaN, false, 4L }]);

        var json = TableJson.Write(table);

        // pandas 1.5 (Debian): pd.DataFrame({"q": ["Qu'est-ce \"x\"", None], "score": [0.5, np.nan], "ok": [True, False],
        // "n": [3, 4]}).to_json(orient="split", index=False), what mlflow.log_table writes (NaN becomes null).
        Assert.That(json, Is.EqualTo("{\"columns\":[\"q\",\"score\",\"ok\",\"n\"],\"data\":[[\"Qu'est-ce \\\"x\\\"\",0.5,true,3],[null,null,false,4]]}"));
    }

    [Test]
    public async Task Logging_an_evaluation_writes_the_metrics_to_the_run_and_hands_the_tables_and_image_to_the_artifact_seam()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var writer = new RecordingWriter();
        string runId;
        IReadOnlyList<string> written;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "eval" }))
        {
            await using var run = tracker.StartRun("r");
            runId = run.RunId;
            var result = Evaluator.EvaluateClassifier(["a", "b", "a"], ["a", "b", "b"]);
            written = EvaluationRunExtensions.LogEvaluationWith(run, result, new FakeRenderer(), writer);
            run.EvaluateText(["The cat sat on the mat."], ["the cat is on the mat"], new TextEvaluationOptions { ModelType = TextModelType.TextSummarization });
        }

        using var store = new LocalFileStore(dir.Path);
        var stored = await store.GetRunAsync(runId, CancellationToken.None);
        var metrics = stored.Data.Metrics.ToDictionary(m => m.Key, m => m.Value);
        Assert.That(metrics["accuracy_score"], Is.EqualTo(2.0 / 3).Within(Tol));
        Assert.That(metrics["rouge1/v1/mean"], Is.EqualTo(5.0 / 6).Within(Tol));
        Assert.That(stored.Data.Metrics.Select(m => m.Step).Distinct(), Is.EqualTo(new long[] { 0 }));
        Assert.That(written, Is.EqualTo(new[] { "eval_results_table.json", "confusion_matrix.json", "confusion_matrix.png" }));
        Assert.That(writer.Tables["eval_results_table.json"], Is.EqualTo("{\"columns\":[\"target\",\"outputs\"],\"data\":[[\"a\",\"a\"],[\"b\",\"b\"],[\"a\",\"b\"]]}"));
        Assert.That(JsonNode.Parse(writer.Tables["confusion_matrix.json"])!["data"]!.ToJsonString(), Is.EqualTo("[[\"a\",1,1],[\"b\",0,1]]"));
        Assert.That(writer.Images["confusion_matrix.png"], Is.EqualTo(FakeRenderer.Bytes));
    }

    [Test]
    public async Task Logging_an_evaluation_to_a_run_writes_its_tables_listed_as_tables_and_the_confusion_matrix_image()
    {
        using var dir = new OfflineFallbackTests.Dir();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "eval" });
        await using var run = tracker.StartRun("r");

        var written = run.LogEvaluation(Evaluator.EvaluateClassifier(["a", "b", "a"], ["a", "b", "b"]), new FakeRenderer());

        Assert.That(written, Is.EquivalentTo(new[] { EvaluationResult.TableArtifactFile, EvaluationResult.ConfusionMatrixTableFile, EvaluationResult.ConfusionMatrixImageFile }));
        Assert.That(run.LoadTable(EvaluationResult.TableArtifactFile).RowCount, Is.EqualTo(3), "one row per example");
        Assert.That(run.LoadTable(EvaluationResult.ConfusionMatrixTableFile).Columns, Is.EqualTo(new[] { "actual", "a", "b" }));
        Assert.That(run.ListArtifacts().Select(a => a.Path), Does.Contain(EvaluationResult.ConfusionMatrixImageFile));
        await run.FlushAsync();
        var logged = await File.ReadAllTextAsync(Directory.GetFiles(dir.Path, "mlflow.loggedArtifacts", SearchOption.AllDirectories).Single());
        Assert.That(JsonNode.Parse(logged)!.AsArray().Select(n => (n!["path"]!.GetValue<string>(), n["type"]!.GetValue<string>())),
            Is.EquivalentTo(new[] { (EvaluationResult.TableArtifactFile, "table"), (EvaluationResult.ConfusionMatrixTableFile, "table") }));
    }

    private sealed class RecordingWriter : IEvaluationArtifactWriter
    {
        public Dictionary<string, string> Tables { get; } = [];

        public Dictionary<string, byte[]> Images { get; } = [];

        public bool WriteTable(ActiveRun run, string artifactFile, MlflowTable table)
        {
            Tables[artifactFile] = TableJson.Write(table);
            return true;
        }

        public bool WriteImage(ActiveRun run, string artifactFile, byte[] png)
        {
            Images[artifactFile] = png;
            return true;
        }
    }

    private sealed class FakeRenderer : IPlotRenderer
    {
        public static readonly byte[] Bytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]; // the PNG signature and an empty chunk

        public byte[] RenderConfusionMatrix(ConfusionMatrix matrix, string title) => Bytes;
    }
}
