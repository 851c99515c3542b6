using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>
/// The server's own ceiling: 1000-point <c>runs/log-batch</c> bodies serialized before timing, POSTed with a plain
/// <see cref="HttpClient"/> from a fixed number of senders, one request in flight on each (a "connection"). No SDK code is on the
/// timed path, so the figure is what the server (and loopback HTTP) can take.
/// </summary>
internal static class RawLogBatchCeiling
{
    private const string LogBatchPath = "api/2.0/mlflow/runs/log-batch";

    /// <summary>
    /// Sends <paramref name="points"/> points to <paramref name="runs"/> fresh runs with <paramref name="connections"/>
    /// requests in flight. The connections take the batches from one queue: each run's in step order, the runs in turn (as
    /// the tracker's sender takes its runs' batches, several requests in flight).
    /// </summary>
    public static async Task<Measurement> MeasureAsync(CeilingSettings settings, MlflowClient client, string experimentId, string figure, long points, int connections, int runs, int? pointsPerMillisecond = null)
    {
        using var cts = new CancellationTokenSource(settings.Timeout);
        var pointsPerRun = points / runs;
        var runIds = new string[runs];
        var bodies = new byte[runs][][];
        var startTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var r = 0; r < runs; r++)
        {
            runIds[r] = (await client.CreateRunAsync(experimentId, $"{figure}-{r}", cancellationToken: cts.Token)).Info.RunId;
            bodies[r] = BuildBodies(runIds[r], pointsPerRun, startTime, pointsPerMillisecond ?? settings.StampRate);
        }

        var queue = new BatchQueue(bodies);

        // No cap on the pool: the workers bound what is in flight, and MLflow's gunicorn server closes every connection
        // after its answer (Connection: close), so each request opens a new connection whatever the cap.
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(settings.Uri + "/"), Timeout = TimeSpan.FromSeconds(120) };
        await WarmUpAsync(http, connections, experimentId, cts.Token);

        var cpu = Measurement.ProcessCpu();
        var sw = Stopwatch.StartNew();
        var workers = new Task[connections];
        for (var c = 0; c < connections; c++)
        {
            workers[c] = Task.Run(() => SendAllAsync(http, queue, cts.Token));
        }

        await Task.WhenAll(workers);
        var seconds = sw.Elapsed.TotalSeconds;
        var cpuSeconds = (Measurement.ProcessCpu() - cpu).TotalSeconds;
        var (readBack, complete) = await Measurement.ReadBackAsync(client, runIds, pointsPerRun, cts.Token);
        foreach (var runId in runIds)
        {
            await client.UpdateRunAsync(runId, RunStatus.Finished, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), cancellationToken: cts.Token);
        }

        return new Measurement(figure, points, seconds, readBack, complete, ClientCpuSeconds: cpuSeconds);
    }

    /// <summary>
    /// The run's log-batch bodies: one key, steps 0 up, <paramref name="pointsPerMillisecond"/> points to each millisecond
    /// from the clock on (<see cref="CeilingSettings.StampRate"/>: as a loop at full speed stamps them, what the tracker and
    /// a synced local run send; 1 for a point a millisecond).
    /// </summary>
    private static byte[][] BuildBodies(string runId, long points, long startTime, int pointsPerMillisecond)
    {
        var bodies = new byte[points / CeilingSettings.BatchPoints][];
        var buffer = new ArrayBufferWriter<byte>(96 * 1024);
        for (var b = 0; b < bodies.Length; b++)
        {
            buffer.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("run_id", runId);
                w.WriteStartArray("metrics");
                for (var i = 0; i < CeilingSettings.BatchPoints; i++)
                {
                    var step = (long)b * CeilingSettings.BatchPoints + i;
                    w.WriteStartObject();
                    w.WriteString("key", CeilingSettings.MetricKey);
                    w.WriteNumber("value", 1.0 / (step + 1));
                    w.WriteNumber("timestamp", startTime + (step / pointsPerMillisecond));
                    w.WriteNumber("step", step);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            bodies[b] = buffer.WrittenSpan.ToArray();
        }

        return bodies;
    }

    /// <summary>Opens every connection before timing: as many concurrent reads as connections.</summary>
    private static async Task WarmUpAsync(HttpClient http, int connections, string experimentId, CancellationToken cancellationToken)
    {
        var reads = Enumerable.Range(0, connections).Select(async _ =>
        {
            using var response = await http.GetAsync($"api/2.0/mlflow/experiments/get?experiment_id={Uri.EscapeDataString(experimentId)}", cancellationToken);
            response.EnsureSuccessStatusCode();
        });
        await Task.WhenAll(reads);
    }

    private static async Task SendAllAsync(HttpClient http, BatchQueue queue, CancellationToken cancellationToken)
    {
        var json = new MediaTypeHeaderValue("application/json");
        while (queue.TryTake(out var body))
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = json;
            using var response = await http.PostAsync(LogBatchPath, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new HttpRequestException($"log-batch answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 300)]}");
            }
        }
    }

    /// <summary>The runs' bodies, taken in turn (run 0's first, run 1's first, …, run 0's second, …) by however many connections send them.</summary>
    private sealed class BatchQueue(byte[][][] runs)
    {
        private readonly int _count = runs.Sum(r => r.Length);
        private int _next = -1;

        public bool TryTake(out byte[] body)
        {
            var i = Interlocked.Increment(ref _next);
            body = i < _count ? runs[i % runs.Length][i / runs.Length] : [];
            return i < _count;
        }
    }
}
