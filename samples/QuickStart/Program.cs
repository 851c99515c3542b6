using Mlflow.Client;

// QuickStart: one run with params, metrics over steps and a tag.
// With no configuration it writes to ./mlruns in MLflow's own on-disk format (open it with
// `mlflow ui --backend-store-uri ./mlruns`); with MLFLOW_TRACKING_URI=http://host:port it logs to that server,
// with no code change.
var experiment = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.ExperimentName) ?? "quickstart";
var destination = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri) ?? Path.GetFullPath("mlruns");

await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { ExperimentName = experiment });

string? runId = null;
await tracker.RunAsync("bert-base-cased", async run =>
{
    runId = run.RunId;
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

Console.WriteLine($"Logged to {destination}; the run ended FINISHED ({tracker.Counters.Sent} entries sent).");
