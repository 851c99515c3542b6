using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Resilience;

/// <summary>
/// <see cref="MlflowClient.LogBatchExactlyOnceAsync"/> against a stateful fake server on 127.0.0.1, file-like (every
/// point appended) and SQL-like (identical points kept once, a re-sent NaN point refused): under 503, 429, gateway
/// errors and answers lost before and after the server applied the batch, every entry ends up on the server once.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(60_000)]
internal sealed class ExactlyOnceBatchTests
{
    private const string Batch = "runs/log-batch";
    private const long T0 = 1_700_000_000_000;

    private static MlflowClient Client(FakeMlflowServer server, CapturingLoggerFactory? logs = null)
    {
        var options = new MlflowClientOptions
        {
            TrackingUri = server.Url,
            RequestTimeout = TimeSpan.FromSeconds(5),
            Retry = new MlflowRetryOptions { MaxRetries = 3, BackoffFactor = TimeSpan.FromMilliseconds(5), BackoffJitter = TimeSpan.Zero },
            LoggerFactory = logs,
        };
        var http = new HttpClient(new LostAnswerHandler(new SocketsHttpHandler()), disposeHandler: true);
        return new MlflowClient(http, options);
    }

    private static async Task<string> NewRunAsync(MlflowClient client)
    {
        var experimentId = await client.CreateExperimentAsync("exp-" + Guid.NewGuid().ToString("N"));
        return (await client.CreateRunAsync(experimentId, "r")).Info.RunId;
    }

    /// <summary>Batch <paramref name="b"/>: points of "loss" and "acc" at steps 10b.., with NaN, ±Infinity and -0.0 among them.</summary>
    private static List<Metric> Points(int b)
    {
        var points = new List<Metric>();
        for (var i = 0; i < 10; i++)
        {
            var step = (b * 10) + i;
            var loss = i switch { 0 => double.NaN, 1 => double.PositiveInfinity, 2 => double.NegativeInfinity, 3 => -0.0, _ => 1.0 / (step + 1) };
            points.Add(new Metric("loss", loss, T0 + step, step));
            points.Add(new Metric("acc", step * 0.01, T0 + step, step));
        }

        return points;
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Under_a_fault_schedule_every_entry_lands_once(bool sqlLike)
    {
        using var server = new FakeMlflowServer(deduplicating: sqlLike);
        var logs = new CapturingLoggerFactory();
        using var client = Client(server, logs);
        var runId = await NewRunAsync(client);

        // log-batch requests in order (re-sends included): what the server does with each.
        server.DropAnswerOf(Batch, 1);                                   // B0: applied, answer lost
        server.Answer("metrics/get-history", 1, 503);                    //     its read-back meets a 503 first (retried)
        server.Answer(Batch, 2, 503);                                    // B1: not applied, retried by the pipeline (#3)
        server.ApplyThenFail(Batch, 4, 504);                             // B2: applied, then a gateway timeout
        server.DropWithoutApplying(Batch, 5);                            // B3: lost before it was applied...
        server.DropAnswerOf(Batch, 6);                                   //     ...and its re-send applied with the answer lost
        server.Answer(Batch, 7, 429, body: "", retryAfter: "0");         // B4: throttled, retried (#8)
        server.ApplyThenFail(Batch, 9, 502);                             // B5: applied, then a bad gateway
        server.Answer(Batch, 10, 500, apply: true);                      // B6: applied, then a 500 with an HTML page (no MLflow error body: outcome unknown)
        server.DropWithoutApplying(Batch, 11);                           // B7: lost unapplied, re-sent (#12)
        const int planned = 10;

        for (var b = 0; b < 8; b++)
        {
            IReadOnlyList<Param>? @params = b == 0 ? [new Param("lr", "0.01"), new Param("layers", "3")] : null;
            IReadOnlyList<Tag>? tags = b is 0 or 3 ? [new Tag("phase", "b" + b), new Tag("mlflow.note.content", "batch " + b)] : null;
            await client.LogBatchExactlyOnceAsync(runId, Points(b), @params, tags);
        }

        var run = server.Runs[runId];
        Assert.Multiple(() =>
        {
            Assert.That(server.FaultsHit, Is.EqualTo(planned), "every planned fault was met");
            Assert.That(server.Count(Batch), Is.EqualTo(12), "re-sent only when the read-back showed the batch missing");
            var expected = Enumerable.Range(0, 8).SelectMany(Points).ToList();
            foreach (var key in new[] { "loss", "acc" })
            {
                var want = expected.Where(m => m.Key == key).Select(m => Stored(m.Value, sqlLike)).ToList();
                var have = run.Metrics[key].Select(p => (p.Value, p.Timestamp, p.Step)).ToList();
                Assert.That(have.Select(p => p.Step).Order(), Is.EqualTo(Enumerable.Range(0, 80).Select(i => (long)i)), key + ": every step once, nothing doubled");
                Assert.That(have.OrderBy(p => p.Step).Select(p => p.Value), Is.EqualTo(want), key + ": the values logged");
            }

            Assert.That(run.Params, Is.EquivalentTo(new Dictionary<string, string> { ["lr"] = "0.01", ["layers"] = "3" }));
            Assert.That(run.Tags["phase"], Is.EqualTo("b3"));
            Assert.That(run.Tags["mlflow.note.content"], Is.EqualTo("batch 3"));
            Assert.That(logs.Lines.Any(l => l.Message.Contains(runId, StringComparison.Ordinal) || l.Message.Contains("loss", StringComparison.Ordinal)), Is.False, "ids and keys stay out of the log");
        });
    }

    /// <summary>What the server holds for a logged value: a SQL store keeps ±Infinity as ±DBL_MAX.</summary>
    private static double Stored(double v, bool sqlLike) => sqlLike && double.IsInfinity(v) ? (v > 0 ? double.MaxValue : double.MinValue) : v;

    [TestCase(false)]
    [TestCase(true)]
    public async Task Plain_log_batch_under_the_same_lost_answer_throws_outcome_unknown_and_sends_once(bool sqlLike)
    {
        using var server = new FakeMlflowServer(deduplicating: sqlLike);
        using var client = Client(server);
        var runId = await NewRunAsync(client);
        server.DropAnswerOf(Batch, 1);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchAsync(runId, Points(0)));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(server.Count(Batch), Is.EqualTo(1));
        Assert.That(server.Count("metrics/get-history"), Is.Zero, "LogBatchAsync leaves the check to the caller");
    }

    [Test]
    public async Task Only_the_missing_part_is_sent_again()
    {
        // A file-backed server writes a batch's points one by one: a failure midway leaves part of it. The fake applies
        // whole batches, so the part is logged first and the rest goes with the batch whose answer is lost unapplied.
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var runId = await NewRunAsync(client);
        var points = Points(0);
        await client.LogBatchAsync(runId, points.Take(7).ToList());
        server.DropWithoutApplying(Batch, 2);
        var resent = new List<int>();
        server.OnApplied = endpoint =>
        {
            if (endpoint == Batch)
            {
                resent.Add(server.Runs[runId].Metrics.Values.Sum(l => l.Count));
            }
        };

        await client.LogBatchExactlyOnceAsync(runId, points, [new Param("p", "v")]);

        Assert.That(server.Count(Batch), Is.EqualTo(3));
        Assert.That(resent, Is.EqualTo(new[] { 20 }), "the re-send carried the 13 missing points, not all 20");
        Assert.That(server.Runs[runId].Metrics.Values.Sum(l => l.Count), Is.EqualTo(20));
        Assert.That(server.Runs[runId].Params["p"], Is.EqualTo("v"));
    }

    [Test]
    public async Task A_read_back_that_fails_too_keeps_the_outcome_unknown()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var runId = await NewRunAsync(client);
        server.DropAnswerOf(Batch, 1);
        for (var nth = 1; nth <= 4; nth++)
        {
            server.Answer("metrics/get-history", nth, 503); // the read and its three retries
        }

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchExactlyOnceAsync(runId, Points(0)));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(ex.StatusCode, Is.Null, "the write's own failure (a lost answer), not the read's 503");
        Assert.That(server.Count(Batch), Is.EqualTo(1), "nothing re-sent blindly");
    }

    [Test]
    public async Task Sends_are_bounded()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var runId = await NewRunAsync(client);
        for (var nth = 1; nth <= 5; nth++)
        {
            server.DropWithoutApplying(Batch, nth);
        }

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchExactlyOnceAsync(runId, Points(0)));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(server.Count(Batch), Is.EqualTo(3));
        Assert.That(server.Runs[runId].Metrics, Is.Empty);
    }

    [Test]
    public async Task A_param_with_another_value_on_the_server_stops_the_batch()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, null, [new Param("p", "old")]);
        server.DropWithoutApplying(Batch, 2);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchExactlyOnceAsync(runId, Points(0), [new Param("p", "new")]));

        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(ex.Message, Does.Contain("'p'"));
        Assert.That(ex.OutcomeUnknown, Is.True);
        Assert.That(server.Count(Batch), Is.EqualTo(2), "nothing re-sent");
        Assert.That(server.Runs[runId].Params["p"], Is.EqualTo("old"));
    }

    [Test]
    public async Task A_clear_refusal_of_the_first_send_is_thrown_as_it_is()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, null, [new Param("p", "old")]);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchExactlyOnceAsync(runId, null, [new Param("p", "new")]));

        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(ex.OutcomeUnknown, Is.False, "nothing of this call was applied");
        Assert.That(server.Count("runs/get"), Is.Zero, "a clear answer needs no read-back");
    }
}
