using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Benchmarks.Infrastructure;

/// <summary>
/// A minimal MLflow-shaped endpoint on 127.0.0.1 (Kestrel) for end-to-end throughput runs: it accepts
/// runs/create, runs/update, runs/log-batch and runs/log-metric, parses every body, and counts the metric points
/// it received. It stores nothing, so the measurement is the client's cost plus loopback HTTP.
/// </summary>
internal sealed class LoopbackTrackingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _metrics;
    private long _requests;

    private LoopbackTrackingServer(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public long MetricPoints => Interlocked.Read(ref _metrics);

    public long Requests => Interlocked.Read(ref _requests);

    public static async Task<LoopbackTrackingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new LoopbackTrackingServer(app);
        app.MapPost("/api/2.0/mlflow/runs/create", async context =>
        {
            await Drain(context.Request).ConfigureAwait(false);
            Interlocked.Increment(ref server._requests);
            context.Response.ContentType = "application/json";
            var id = Guid.NewGuid().ToString("N");
            await context.Response.WriteAsync("{\"run\":{\"info\":{\"run_id\":\"" + id + "\",\"run_uuid\":\"" + id + "\",\"experiment_id\":\"0\",\"status\":\"RUNNING\",\"start_time\":1,\"lifecycle_stage\":\"active\",\"artifact_uri\":\"mlflow-artifacts:/0/" + id + "/artifacts\"},\"data\":{}}}").ConfigureAwait(false);
        });
        app.MapPost("/api/2.0/mlflow/runs/update", async context =>
        {
            await Drain(context.Request).ConfigureAwait(false);
            Interlocked.Increment(ref server._requests);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"run_info":{"run_id":"x","experiment_id":"0","status":"FINISHED","lifecycle_stage":"active"}}""").ConfigureAwait(false);
        });
        app.MapPost("/api/2.0/mlflow/runs/log-batch", async context =>
        {
            var body = await Drain(context.Request).ConfigureAwait(false);
            Interlocked.Add(ref server._metrics, CountMetrics(body));
            Interlocked.Increment(ref server._requests);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}").ConfigureAwait(false);
        });
        app.MapPost("/api/2.0/mlflow/runs/log-metric", async context =>
        {
            await Drain(context.Request).ConfigureAwait(false);
            Interlocked.Increment(ref server._metrics);
            Interlocked.Increment(ref server._requests);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}").ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        server.Url = app.Urls.First();
        return server;
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _metrics, 0);
        Interlocked.Exchange(ref _requests, 0);
    }

    private static async Task<byte[]> Drain(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Counts the elements of the top-level "metrics" array with a real JSON reader.</summary>
    private static int CountMetrics(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        var count = 0;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("metrics"u8))
            {
                reader.Read();
                var depth = reader.CurrentDepth;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
                {
                    if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == depth + 1)
                    {
                        count++;
                    }
                }
            }
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
