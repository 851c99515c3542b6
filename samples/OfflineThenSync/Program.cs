using Microsoft.ML;
using Mlflow.Client;
using Mlflow.Client.Sync;
using Mlflow.Samples;
using Spectre.Console;

// OfflineThenSync: a run logged while its tracking server cannot be reached. By default the sample points at a closed
// loopback port (http://127.0.0.1:1), so the tracker goes offline and keeps everything in a local store in MLflow's
// format; the sample prints where (run.DataLocation, tracker.OfflineDirectory). Then, when a server is given
// (--sync-to URL or MLFLOW_SYNC_TO), it sends the kept runs there with MlflowSync; else it prints the mlflow-sync
// command to run later. An http(s) MLFLOW_TRACKING_URI replaces the closed port (a server that answers gets the run
// directly: nothing is left to sync).
const string ClosedPort = "http://127.0.0.1:1";
var configured = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri);
var server = configured is not null && configured.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? configured : ClosedPort;
var syncTo = Option("--sync-to") ?? Environment.GetEnvironmentVariable("MLFLOW_SYNC_TO");
var experiment = SampleConsole.Experiment("offline-then-sync");

string? offlineDirectory;
await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions
{
    TrackingUri = server,
    ExperimentName = experiment,
    // Give up on the server after 3 s instead of 30 (the default), so the sample goes offline quickly.
    Offline = { OfflineAfter = TimeSpan.FromSeconds(3) },
}))
{
    var ml = new MLContext(seed: 1);
    var (train, test) = ReviewData.Split(ReviewData.Load());
    await using var run = await tracker.StartRunAsync("perceptron-offline");
    run.LogParam("trainer", "AveragedPerceptron");
    run.LogParam("learning_rate", 0.5);
    run.LogParam("epochs", 10);
    AnsiConsole.Progress().Start(progress =>
    {
        var bar = progress.AddTask("training", maxValue: 10);
        SentimentModels.TrainPerceptronByEpoch(ml, train, test, 0.5f, 10, (epoch, accuracy, f1) =>
        {
            run.LogMetric("epoch_accuracy", accuracy, step: epoch);
            run.LogMetric("epoch_f1", f1, step: epoch);
            bar.Increment(1);
        });
    });
    run.LogText($"Trained offline on {train.Count} reviews.\n", "notes/offline.txt");
    await run.FlushAsync();

    AnsiConsole.MarkupLine($"Run [bold]{run.RunName}[/] ({run.RunId}): data location [bold]{run.DataLocation}[/].");
    SampleConsole.PrintDestination(tracker, run);
    offlineDirectory = run.DataLocation == RunDataLocation.Server ? null : tracker.OfflineDirectory;
}

if (offlineDirectory is null)
{
    AnsiConsole.WriteLine("The server answered: the run was logged there directly and there is nothing to sync.");
    return 0;
}

if (syncTo is null)
{
    AnsiConsole.WriteLine("No server to sync to now. When one is up, send the kept runs with:");
    AnsiConsole.WriteLine($"  mlflow-sync --from {offlineDirectory} --to <tracking server URI>");
    AnsiConsole.WriteLine("or run this sample again with --sync-to <tracking server URI>.");
    return 0;
}

var summary = await MlflowSync.SyncAsync(new SyncOptions { From = offlineDirectory, To = syncTo, ExperimentName = experiment });
AnsiConsole.WriteLine($"Synced to the server: {summary.RunsCreated} run(s) created, {summary.RunsResumed} resumed, {summary.RunsUpToDate} up to date, "
    + $"{summary.ParamsSent} params, {summary.MetricPointsSent} metric points, {summary.ArtifactsSent} artifact(s); complete: {summary.Complete}.");
foreach (var error in summary.Errors)
{
    AnsiConsole.WriteLine("  " + error);
}

return summary.Complete ? 0 : 1;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
