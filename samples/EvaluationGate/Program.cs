using System.Globalization;
using Microsoft.ML;
using Mlflow.Client;
using Mlflow.Client.Comparison;
using Mlflow.Client.Evaluation;
using Mlflow.Samples;
using Spectre.Console;

// EvaluationGate: evaluates a candidate model in a run and compares it with the run behind the registered model's
// alias "champion" (set by samples/ModelEvaluation). Prints the verdict and exits with the gate's code: 0 pass,
// 1 regression, 2 a metric missing; so a CI step fails on a regression.
//   dotnet run --project samples/EvaluationGate                                  # the champion's trainer, retrained
//   dotnet run --project samples/EvaluationGate -- --trainer AveragedPerceptron --train-size 20   # a weaker candidate
// With --promote, a winning candidate is registered as a new version and takes the alias.
const string ModelName = "sentiment-classifier";
const string Alias = "champion";
var trainerArg = Option("--trainer");
var trainSize = Option("--train-size") is { } size ? int.Parse(size, CultureInfo.InvariantCulture) : (int?)null;
var promote = args.Contains("--promote");
var experiment = SampleConsole.Experiment("sentiment-evaluation");

await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { ExperimentName = experiment });
var gate = new EvaluationGate(
[
    new MetricCriterion("f1_score", MetricGoal.Maximize, Tolerance: 0.02),
    new MetricCriterion("accuracy_score", MetricGoal.Maximize, Tolerance: 0.02),
    new MetricCriterion("log_loss", MetricGoal.Minimize, Tolerance: 0.05),
]);

// The candidate: the trainer asked for, else the champion's own (a scheduled re-evaluation), else SDCA.
var trainer = trainerArg ?? ChampionTrainer() ?? "SdcaLogisticRegression";
var ml = new MLContext(seed: 1);
var (train, test) = ReviewData.Split(ReviewData.Load());
if (trainSize is { } n)
{
    train = train.Take(n).ToList();
}

var targets = test.Select(r => SentimentModels.LabelName(r.Label)).ToList();
var work = Directory.CreateTempSubdirectory("evaluation-gate-");
string candidateRunId = "";
ActiveRun? candidate = null;
AnsiConsole.MarkupLine($"Candidate: {Markup.Escape(trainer)} trained on {train.Count} reviews, evaluated on {test.Count}.");
await tracker.RunAsync($"candidate-{trainer}", async run =>
{
    candidateRunId = run.RunId;
    candidate = run;
    run.SetTag("role", "candidate");
    run.LogParam("model_name", trainer);
    run.LogParam("model_version", "candidate");
    run.LogParam("task", "binary-sentiment-classification");
    run.LogParam("train_size", train.Count);
    SampleInputs.LogEvaluationDataset(run, test);
    var model = SentimentModels.Train(ml, trainer, train);
    var (predictions, scores) = model.Predict(ml, test);
    run.EvaluateClassifier(targets, predictions, new ClassifierEvaluationOptions { PositiveLabel = "positive", PositiveScores = scores });
    SampleInputs.LogModel(run, ml, model, work.FullName);
    await run.FlushAsync();
});

var result = tracker.CompareWithAlias(gate, candidateRunId, ModelName, Alias);
AnsiConsole.WriteLine(result.ToString());
var colour = result.Verdict == GateVerdict.Pass ? "green" : "red";
AnsiConsole.MarkupLine(result.NoBaseline
    ? $"[{colour}]{result.Verdict}[/]: no {ModelName}@{Alias} yet (run samples/ModelEvaluation first); the candidate has every metric."
    : $"[{colour}]{result.Verdict}[/] against {ModelName}@{Alias} (version {result.BaselineVersion}, run {result.BaselineRunId}).");

if (promote && result.CandidateWins)
{
    var version = tracker.Registry.RegisterModel(candidateRunId, "model", ModelName);
    tracker.Registry.SetAlias(ModelName, Alias, version.Version);
    AnsiConsole.MarkupLine($"Promoted: {ModelName} version {version.Version} is now {Alias}.");
}

SampleConsole.PrintDestination(tracker, candidate!);
work.Delete(recursive: true);
return result.ExitCode;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

string? ChampionTrainer()
{
    try
    {
        var champion = tracker.Registry.GetVersionByAlias(ModelName, Alias);
        var row = tracker.SearchRuns(new RunQuery { ExperimentNames = [experiment] }).Rows.FirstOrDefault(r => r.RunId == champion.RunId);
        return row?.Params.GetValueOrDefault("model_name");
    }
    catch (MlflowException)
    {
        return null;
    }
}
