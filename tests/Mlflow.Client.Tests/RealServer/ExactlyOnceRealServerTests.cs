using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// <see cref="MlflowClient.LogBatchExactlyOnceAsync"/> and the sign of zero against a real MLflow server. Runs when
/// <c>MLFLOW_TEST_TRACKING_URI</c> is set; run it on a sqlite-backed and a file-backed server, they differ on re-sent
/// points, on ±Infinity and on -0.0.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(300_000)]
public class ExactlyOnceRealServerTests
{
    private const string Batch = "runs/log-batch";
    private const long T0 = 1_700_000_000_000;
    private string _uri = null!;

    [SetUp]
    public void SetUp()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();

        _uri = uri;
    }

    private MlflowClient Client(Drops? drops = null)
    {
        var options = new MlflowClientOptions { TrackingUri = _uri, RequestTimeout = TimeSpan.FromSeconds(30), Retry = { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(100), BackoffJitter = TimeSpan.Zero } };
        return drops is null ? new MlflowClient(options) : new MlflowClient(new HttpClient(new DropAnswers(new SocketsHttpHandler(), drops)), options);
    }

    private static async Task<string> NewRunAsync(MlflowClient client, string what)
    {
        var experimentId = await client.CreateExperimentAsync("dotnet-" + what + "-" + Guid.NewGuid().ToString("N")[..10]);
        return (await client.CreateRunAsync(experimentId, what)).Info.RunId;
    }

    /// <summary>Whether the server appends an identical point again (file store) rather than keeping it once (SQL stores).</summary>
    private static async Task<bool> AppendsDuplicatesAsync(MlflowClient client, string runId)
    {
        await client.LogBatchAsync(runId, [new Metric("probe", 1, T0, 0), new Metric("probe", 1, T0, 0)]);
        return (await client.GetMetricHistoryAsync(runId, "probe")).Count == 2;
    }

    private static List<Metric> Points(int b)
    {
        var points = new List<Metric>();
        for (var i = 0; i < 100; i++)
        {
            var step = (b * 100) + i;
            var loss = i switch { 0 => double.NaN, 1 => double.PositiveInfinity, 2 => double.NegativeInfinity, 3 => -0.0, _ => 1.0 / (step + 1) };
            points.Add(new Metric("loss", loss, T0 + step, step));
            points.Add(new Metric("acc", step * 0.01, T0 + step, step));
        }

        return points;
    }

    [Test]
    public async Task Log_batch_exactly_once_with_answers_lost_after_and_before_applying_holds_every_entry_once()
    {
        // log-batch #1 and #3 are applied with the answer lost; #4 never reaches the server and its re-send (#5) is applied with the answer lost.
        var drops = new Drops([(Batch, 1), (Batch, 3), (Batch, 5)], beforeSending: [(Batch, 4)]);
        using var client = Client(drops);
        var runId = await NewRunAsync(client, "exactly-once");

        for (var b = 0; b < 4; b++)
        {
            IReadOnlyList<Param>? @params = b == 0 ? [new Param("lr", "0.01")] : b == 3 ? [new Param("layers", "3")] : null;
            IReadOnlyList<Tag>? tags = b is 0 or 3 ? [new Tag("phase", "b" + b)] : null;
            await client.LogBatchExactlyOnceAsync(runId, Points(b), @params, tags);
        }

        Assert.That(drops.Dropped, Is.EqualTo(4), "every planned loss happened");
        using var reader = Client();
        var appends = await AppendsDuplicatesAsync(reader, runId);
        TestContext.Out.WriteLine(appends ? "file-like server (appends duplicates)" : "SQL-like server (keeps identical points once)");
        var expected = Enumerable.Range(0, 4).SelectMany(Points).ToList();
        foreach (var key in new[] { "loss", "acc" })
        {
            var history = (await reader.GetMetricHistoryAsync(runId, key)).OrderBy(p => p.Step).ToList();
            var want = expected.Where(m => m.Key == key).ToList();
            Assert.That(history.Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 400).Select(i => (long)i)), key + ": every step once, nothing doubled");
            for (var i = 0; i < want.Count; i++)
            {
                var (sent, stored) = (want[i].Value, history[i].Value);
                var expectedValue = !appends && double.IsInfinity(sent) ? (sent > 0 ? double.MaxValue : double.MinValue) : sent; // SQL stores keep ±DBL_MAX
                WireAssert.SameDouble(stored, expectedValue, $"{key} step {i}");
                Assert.That(history[i].Timestamp, Is.EqualTo(want[i].Timestamp));
            }
        }

        var data = (await reader.GetRunAsync(runId)).Data;
        Assert.That(data.Params.Select(p => (p.Key, p.Value)).Order(), Is.EqualTo(new[] { ("layers", "3"), ("lr", "0.01") }));
        Assert.That(data.Tags.Single(t => t.Key == "phase").Value, Is.EqualTo("b3"));
    }

    [Test]
    public async Task Log_metric_of_negative_zero_reads_back_negative_from_a_file_backed_server()
    {
        using var client = Client();
        var runId = await NewRunAsync(client, "negative-zero");
        var appends = await AppendsDuplicatesAsync(client, runId);

        await client.LogMetricAsync(runId, "z", -0.0, T0, 0);
        await client.LogMetricAsync(runId, "z", 0.0, T0, 1);

        var history = (await client.GetMetricHistoryAsync(runId, "z")).OrderBy(p => p.Step).ToList();
        Assert.That(history.Select(p => p.Value), Is.EqualTo(new[] { 0.0, 0.0 }));
        TestContext.Out.WriteLine($"{(appends ? "file" : "SQL")}-backed server returned {(double.IsNegative(history[0].Value) ? "-0.0" : "0.0")} for -0.0");
        if (appends)
        {
            Assert.That(double.IsNegative(history[0].Value), Is.True, "the file store keeps the sign it was sent");
        }

        Assert.That(double.IsNegative(history[1].Value), Is.False, "0.0 stays positive");
    }
}
