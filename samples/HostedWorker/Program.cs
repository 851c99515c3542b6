// A generic host whose background service evaluates a tiny classifier on a timer and logs one MLflow run per tick.
// No tracking URI is set, so the runs go to ./mlruns (open them with `mlflow ui`); set MLFLOW_TRACKING_URI (or
// Mlflow__TrackingUri) to log to a server. Ctrl+C stops the host: the tick in progress finishes, and a run still active
// would be flushed and ended KILLED by the hosted service AddMlflowTracking registers.
using HostedWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    // appsettings.json sits beside the program, whatever folder it is started from.
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Services.AddMlflowTracking(builder.Configuration.GetSection("Mlflow"));
builder.Services.Configure<WorkerOptions>(builder.Configuration.GetSection("Worker"));
builder.Services.AddHostedService<EvaluationWorker>();
await builder.Build().RunAsync();
