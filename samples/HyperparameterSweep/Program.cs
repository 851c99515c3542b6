using System.Globalization;
using Microsoft.ML;
using Mlflow.Client;
using Mlflow.Client.Comparison;
using Mlflow.Client.Evaluation;
using Mlflow.Samples;
using Spectre.Console;

// HyperparameterSweep: a parent run with one nested child run per grid point (learning rate x number of epochs of
// ML.NET's averaged perceptron on the shipped review set). Each child logs its params, the test accuracy and F1 after
// every epoch (step = epoch: the UI draws them as curves) and the final evaluation under MLflow's metric names; the
// parent is tagged with the best child, which is printed with the grid.
float[] learningRates = [0.05f, 0.5f, 2f];
int[] epochCounts = [3, 8];
var experiment = SampleConsole.Experiment("sentiment-sweep");

await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { ExperimentName = experiment });
var ml = new MLContext(seed: 1);
var (train, test) = ReviewData.Split(ReviewData.Load());
var targets = test.Select(r => SentimentModels.LabelName(r.Label)).ToList();

await using var parent = tracker.StartRun("perceptron-sweep");
parent.LogParam("trainer", "AveragedPerceptron");
parent.LogParam("grid.learning_rate", string.Join(' ', learningRates.Select(v => v.ToString(CultureInfo.InvariantCulture))));
parent.LogParam("grid.epochs", string.Join(' ', epochCounts));
parent.LogParam("task", "binary-sentiment-classification");

var totalEpochs = learningRates.Length * epochCounts.Sum();
AnsiConsole.Progress().Start(progress =>
{
    var bar = progress.AddTask("sweep", maxValue: totalEpochs);
    foreach (var learningRate in learningRates)
    {
        foreach (var epochs in epochCounts)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"lr={learningRate}-epochs={epochs}");
            bar.Description = name;
            using var child = parent.StartChildRun(name);
            child.LogParam("learning_rate", learningRate);
            child.LogParam("epochs", epochs);
            var model = SentimentModels.TrainPerceptronByEpoch(ml, train, test, learningRate, epochs, (epoch, accuracy, f1) =>
            {
                child.LogMetric("epoch_accuracy", accuracy, step: epoch);
                child.LogMetric("epoch_f1", f1, step: epoch);
                bar.Increment(1);
            });
            var (predictions, scores) = model.Predict(ml, test);
            var result = Evaluator.EvaluateClassifier(targets, predictions, new ClassifierEvaluationOptions { PositiveLabel = "positive", PositiveScores = scores });
            child.LogMetrics(result.Metrics);
        }
    }
});

await tracker.FlushAsync(TimeSpan.FromSeconds(30));
var children = tracker.SearchRuns(new RunQuery
{
    ExperimentNames = [experiment],
    Filter = $"tags.mlflow.parentRunId = '{parent.RunId}'",
    OrderBy = ["metrics.f1_score DESC", "metrics.log_loss ASC"],
});
var best = children.Best("f1_score")!;
parent.SetTag("best_run_id", best.RunId);
parent.SetTag("best_run_name", best.RunName ?? best.RunId);
parent.LogMetric("best_f1_score", best.Metrics["f1_score"]);

SampleConsole.PrintRunTable(children, ["run_name", "params.learning_rate", "params.epochs", "metrics.accuracy_score", "metrics.f1_score", "metrics.log_loss"], best.RunId);
AnsiConsole.MarkupLine($"Best child of {parent.RunName}: [green]{Markup.Escape(best.RunName ?? best.RunId)}[/] (run {best.RunId}, f1_score {best.Metrics["f1_score"]:0.0000}), tagged on the parent as best_run_id.");
SampleConsole.PrintDestination(tracker, parent);
