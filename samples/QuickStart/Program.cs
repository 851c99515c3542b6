using Mlflow.Client;

// QuickStart: one run with params, metrics over steps and a tag.
// With no configuration it writes to ./mlruns (MLflow's own on-disk format; open it with
// `mlflow ui --backend-store-uri ./mlruns`); with MLFLOW_TRACKING_URI=http://host:port it logs to that server.
var options = new MlflowTrackerOptions { ExperimentName = Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_NAME") ?? "quickstart" };
await using var tracker = MlflowTracker.Create(options);

await tracker.RunAsync("bert-base-cased", async run =>
{
    run.LogParam("learning_rate", 5e-5);
    run.LogParam("batch_size", 32);
    run.LogParam("optimizer", "adamw");
    run.SetTag("stage", "quickstart");

    for (var step = 0; step < 5; step++)
    {
        var loss = 1.0 / (step + 1);
        run.LogMetric("loss", loss, step: step);
        run.LogMetric("accuracy", 0.80 + (0.03 * step), step: step);
    }

    await run.FlushAsync();
    Console.WriteLine($"Logged run {run.RunId} ({run.RunName}) in experiment {run.ExperimentId} to {tracker.Description}");
});
