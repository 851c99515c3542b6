using Microsoft.ML;
using Mlflow.Client;
using Mlflow.Client.Comparison;
using Mlflow.Client.Evaluation;
using Mlflow.Client.Plots;
using Mlflow.Samples;
using Spectre.Console;

// ModelEvaluation: the model-evaluation workflow with real models. Several ML.NET sentiment classifiers are trained on
// the review set shipped in samples/Shared/data, one run per model in one experiment: params naming the model, its
// version and the task, the evaluation dataset as a run input, the evaluation (MLflow's metric names, the confusion
// matrix as a PNG, the predictions table), the model itself; then the runs side by side and the best one registered
// with the alias "champion". The model is logged as its ONNX export (Microsoft.ML.OnnxConverter; all three trainers,
// text featurizer included, convert), MLflow's onnx flavor, so MLflow's Python opens it (mlflow.onnx.load_model, and
// mlflow.pyfunc with onnxruntime); the ML.NET .zip is kept beside it as the run artifact mlnet/<trainer>.zip.
// No server needed: with no MLFLOW_TRACKING_URI it writes ./mlruns.
const string ModelName = "sentiment-classifier";
const string Task = "binary-sentiment-classification";
var experiment = SampleConsole.Experiment("sentiment-evaluation");
var batch = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", System.Globalization.CultureInfo.InvariantCulture);

await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { ExperimentName = experiment });
var ml = new MLContext(seed: 1);
var (train, test) = ReviewData.Split(ReviewData.Load());
var work = Directory.CreateTempSubdirectory("model-evaluation-");
var targets = test.Select(r => SentimentModels.LabelName(r.Label)).ToList();
var renderer = new ScottPlotRenderer();
ActiveRun? last = null;

AnsiConsole.MarkupLine($"Training {SentimentModels.Known.Count} classifiers on {train.Count} reviews, evaluating on {test.Count}.");
AnsiConsole.Progress().Start(progress =>
{
    var bar = progress.AddTask("models", maxValue: SentimentModels.Known.Count);
    foreach (var (name, version) in SentimentModels.Known)
    {
        bar.Description = name;
        tracker.Run($"{name}-v{version}", run =>
        {
            last = run;
            run.SetTag("evaluation_batch", batch);
            run.LogParam("model_name", name);
            run.LogParam("model_version", version);
            run.LogParam("task", Task);
            run.LogParam("framework", "ML.NET " + SentimentModels.MlNetVersion);
            run.LogParam("train_size", train.Count);
            run.LogParam("test_size", test.Count);
            SampleInputs.LogEvaluationDataset(run, test);

            var model = SentimentModels.Train(ml, name, train);
            var (predictions, scores) = model.Predict(ml, test);
            run.EvaluateClassifier(targets, predictions, new ClassifierEvaluationOptions
            {
                PositiveLabel = "positive",
                PositiveScores = scores,
                Inputs = new Dictionary<string, IReadOnlyList<object?>> { ["text"] = test.Select(r => (object?)r.Text).ToList() },
            }, renderer);
            SampleInputs.LogModel(run, ml, model, work.FullName);
        });
        bar.Increment(1);
    }
});

await tracker.FlushAsync(TimeSpan.FromSeconds(30));
SampleConsole.PrintDestination(tracker, last!);

// The runs of this execution side by side, best F1 first.
var table = tracker.SearchRuns(new RunQuery
{
    ExperimentNames = [experiment],
    Filter = $"tags.evaluation_batch = '{batch}'",
    OrderBy = ["metrics.f1_score DESC"],
});
var best = table.Best("f1_score")!;
SampleConsole.PrintRunTable(table, ["run_name", "metrics.accuracy_score", "metrics.f1_score", "metrics.roc_auc", "metrics.log_loss"], best.RunId);

// The best model becomes a new version of the registered model, with the alias "champion".
var registered = tracker.Registry.RegisterModel(best.RunId, "model", ModelName);
tracker.Registry.SetAlias(ModelName, "champion", registered.Version);
AnsiConsole.MarkupLine($"Best: [green]{Markup.Escape(best.RunName ?? best.RunId)}[/] (f1_score {best.Metrics["f1_score"]:0.0000}); registered as {ModelName} version {registered.Version} with alias champion.");
work.Delete(recursive: true);
