using Mlflow.Client;

// QuickStart: one run with params, metrics over steps and a tag.
// With no configuration it writes to ./mlruns in MLflow's own on-disk format (open it with
// `mlflow ui --backend-store-uri ./mlruns`); with MLFLOW_TRACKING_URI=http://host:port it logs to that server,
// with no code change. When that server cannot be reached, the run goes on offline and the output says where its
// data waits for `mlflow-sync`.
var experiment = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.ExperimentName) ?? "quickstart";

await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { ExperimentName = experiment });

ActiveRun? finished = null;
await tracker.RunAsync("bert-base-cased", async run =>
{
    finished = run;
    run.LogParam("learning_rate", 5e-5);
    run.LogParam("batch_size", 32);
    run.LogParam("optimizer", "adamw");
    run.SetTag("stage", "quickstart");

    for (var step = 0; step < 5; step++)
    {
        run.LogMetric("loss", 1.0 / (step + 1), step: step);
        run.LogMetric("accuracy", 0.80 + (0.03 * step), step: step);
    }

    await run.FlushAsync();
    Console.WriteLine($"Run {run.RunId} ({run.RunName}) in experiment {run.ExperimentId} '{experiment}'");
});

// The tracker's own account of where the data is: a redacted URI (never a credential) or a folder.
var counters = tracker.Counters;
Console.WriteLine(finished!.DataLocation switch
{
    RunDataLocation.LocalStore => $"Logged to the local store {tracker.Destination}; the run ended {finished.Status}.",
    RunDataLocation.Server => $"Logged to {tracker.Destination}; the run ended {finished.Status} ({counters.Sent} entries sent).",
    _ => $"The server {tracker.Destination} could not be reached: the run ({finished.Status}) and its {counters.Offline} entries are kept in "
         + $"{tracker.OfflineDirectory}. Send them later with: mlflow-sync --from {tracker.OfflineDirectory} --to <server>",
});
