using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>What every run of samples/ModelEvaluation must hold, on the local store and on a server alike.</summary>
internal static class SampleChecks
{
    /// <summary>The metrics MLflow's evaluator logs for a binary classifier with scores, under its names.</summary>
    public static readonly string[] EvaluationMetrics = ["accuracy_score", "f1_score", "precision_score", "recall_score", "roc_auc", "log_loss", "example_count", "true_positives"];

    /// <summary>The artifacts of an evaluation run.</summary>
    public static readonly string[] Artifacts = ["confusion_matrix.png", "eval_results_table.json", "confusion_matrix.json"];

    public static double Metric(Run run, string key) => run.Data.Metrics.Single(m => m.Key == key).Value;

    public static void AssertEvaluationRun(Run run, Func<string, bool> artifactExists)
    {
        var name = run.Info.RunName;
        Assert.Multiple(() =>
        {
            Assert.That(run.Info.Status, Is.EqualTo(RunStatus.Finished), name);
            Assert.That(run.Data.Params.Select(p => p.Key), Is.SupersetOf(new[] { "model_name", "model_version", "task", "framework" }), name);
            Assert.That(run.Data.Params.Single(p => p.Key == "task").Value, Is.EqualTo("binary-sentiment-classification"), name);
            Assert.That(run.Data.Metrics.Select(m => m.Key), Is.SupersetOf(EvaluationMetrics), name);
            Assert.That(Metric(run, "accuracy_score"), Is.InRange(0.5, 1.0), name + ": better than chance on the shipped reviews");
            Assert.That(Metric(run, "example_count"), Is.EqualTo(80), name + ": the test split");
            foreach (var artifact in Artifacts)
            {
                Assert.That(artifactExists(artifact), Is.True, $"{name}: {artifact}");
            }
        });
    }
}
