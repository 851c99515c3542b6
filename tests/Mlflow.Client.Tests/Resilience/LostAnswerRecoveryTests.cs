using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Resilience;

/// <summary>
/// Deletes and restores whose request was applied but whose answer was lost: the client reads the state back instead of
/// failing with a 404 on a blind second send (stateful fake server on 127.0.0.1, faults cut after the server applied).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(60_000)]
internal sealed class LostAnswerRecoveryTests
{
    private static MlflowClient Client(FakeMlflowServer server, CapturingLoggerFactory? logs = null)
    {
        var options = new MlflowClientOptions
        {
            TrackingUri = server.Url,
            RequestTimeout = TimeSpan.FromSeconds(5),
            Retry = new MlflowRetryOptions { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(10), BackoffJitter = TimeSpan.Zero },
            LoggerFactory = logs,
        };
        var http = new HttpClient(new LostAnswerHandler(new SocketsHttpHandler()), disposeHandler: true);
        return new MlflowClient(http, options);
    }

    private static async Task<(string ExperimentId, string RunId)> RunWithTagAsync(MlflowClient client, string key)
    {
        var experimentId = await client.CreateExperimentAsync("exp-" + Guid.NewGuid().ToString("N"));
        var run = await client.CreateRunAsync(experimentId, "r", tags: [new Tag(key, "v"), new Tag("other", "stays")]);
        return (experimentId, run.Info.RunId);
    }

    [TestCase(0)]
    [TestCase(504)]
    public async Task Delete_tag_applied_with_the_answer_lost_is_confirmed_by_a_read_back(int fault)
    {
        using var server = new FakeMlflowServer();
        var logs = new CapturingLoggerFactory();
        using var client = Client(server, logs);
        var (_, runId) = await RunWithTagAsync(client, "doomed");
        if (fault == 0)
        {
            server.DropAnswerOf("runs/delete-tag");
        }
        else
        {
            server.ApplyThenFail("runs/delete-tag", 1, fault);
        }

        await client.DeleteTagAsync(runId, "doomed");

        Assert.That(server.Runs[runId].Tags.ContainsKey("doomed"), Is.False);
        Assert.That(server.Runs[runId].Tags["other"], Is.EqualTo("stays"));
        Assert.That(server.Count("runs/delete-tag"), Is.EqualTo(1), "not sent blindly a second time (that would be a 404)");
        Assert.That(logs.Lines.Any(l => l.Message.Contains("write was applied", StringComparison.Ordinal)), Is.True);
        Assert.That(logs.Lines.Any(l => l.Message.Contains(runId, StringComparison.Ordinal) || l.Message.Contains("doomed", StringComparison.Ordinal)), Is.False, "ids and keys stay out of the log");
    }

    [Test]
    public async Task Delete_tag_lost_before_it_was_applied_is_sent_again()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var (_, runId) = await RunWithTagAsync(client, "doomed");
        server.DropWithoutApplying("runs/delete-tag");

        await client.DeleteTagAsync(runId, "doomed");

        Assert.That(server.Runs[runId].Tags.ContainsKey("doomed"), Is.False);
        Assert.That(server.Count("runs/delete-tag"), Is.EqualTo(2), "the read-back found the tag, so the delete went out again");
    }

    [Test]
    public async Task Delete_tag_of_a_missing_tag_is_still_a_404()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var (_, runId) = await RunWithTagAsync(client, "t");

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.DeleteTagAsync(runId, "never-set"));

        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(ex.OutcomeUnknown, Is.False);
        Assert.That(server.Count("runs/get"), Is.Zero, "a plain answer needs no read-back");
    }

    [Test]
    public async Task Delete_tag_whose_read_back_fails_too_keeps_the_outcome_unknown()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var (_, runId) = await RunWithTagAsync(client, "doomed");
        server.DropAnswerOf("runs/delete-tag");
        server.ApplyThenFail("runs/get", 1, 503); // the read-back and its one retry both meet an unavailable server
        server.ApplyThenFail("runs/get", 2, 503);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.DeleteTagAsync(runId, "doomed"));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(ex.StatusCode, Is.Null);
        Assert.That(server.Count("runs/delete-tag"), Is.EqualTo(1));
        Assert.That(server.Count("runs/get"), Is.EqualTo(2));
    }

    [Test]
    public async Task Delete_run_applied_with_the_answer_lost_is_retried_and_succeeds()
    {
        // runs/delete answers 200 when the run is already deleted (both backends): the pipeline may send it again.
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var (_, runId) = await RunWithTagAsync(client, "t");
        server.DropAnswerOf("runs/delete");

        await client.DeleteRunAsync(runId);

        Assert.That(server.Runs[runId].Deleted, Is.True);
        Assert.That(server.Count("runs/delete"), Is.EqualTo(2));
    }

    [Test]
    public async Task The_read_back_passes_a_circuit_breaker_that_the_lost_answers_opened()
    {
        // Four requests in the breaker's window, two of them failures: it opens on the lost delete answer, and the
        // read that decides that delete must still go out (it used to be refused, and the applied delete failed).
        using var server = new FakeMlflowServer();
        var options = new MlflowClientOptions
        {
            TrackingUri = server.Url,
            RequestTimeout = TimeSpan.FromSeconds(5),
            Retry = new MlflowRetryOptions
            {
                MaxRetries = 0,
                CircuitBreakerMinimumThroughput = 4,
                CircuitBreakerFailureRatio = 0.5,
                CircuitBreakerSamplingDuration = TimeSpan.FromMinutes(1),
                CircuitBreakerBreakDuration = TimeSpan.FromMinutes(1),
            },
        };
        using var client = new MlflowClient(new HttpClient(new LostAnswerHandler(new SocketsHttpHandler()), disposeHandler: true), options);
        var experimentId = await client.CreateExperimentAsync("exp-" + Guid.NewGuid().ToString("N"));
        var run = await client.CreateRunAsync(experimentId, "r");
        server.ApplyThenFail("runs/log-batch", 1, 502);
        var lost = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1, 0)]));
        Assert.That(lost!.Kind, Is.EqualTo(MlflowFailureKind.OutcomeUnknown));
        server.ApplyThenFail("experiments/delete", 1, 504);

        await client.DeleteExperimentAsync(experimentId);

        Assert.That(server.Experiments[experimentId].Deleted, Is.True);
        Assert.That(server.Count("experiments/delete"), Is.EqualTo(1));
        var open = Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentAsync(experimentId), "an ordinary request still meets the open breaker");
        Assert.That(open!.Kind, Is.EqualTo(MlflowFailureKind.Unreachable));
        Assert.That(open.Message, Does.Contain("circuit breaker"));
    }

    [Test]
    public async Task Delete_and_restore_experiment_applied_with_the_answer_lost_are_confirmed()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var (experimentId, _) = await RunWithTagAsync(client, "t");

        server.DropAnswerOf("experiments/delete");
        await client.DeleteExperimentAsync(experimentId);
        Assert.That(server.Experiments[experimentId].Deleted, Is.True);
        Assert.That(server.Count("experiments/delete"), Is.EqualTo(1), "a second send would be a 404");

        server.ApplyThenFail("experiments/restore", 1, 502);
        await client.RestoreExperimentAsync(experimentId);
        Assert.That(server.Experiments[experimentId].Deleted, Is.False);
        Assert.That(server.Count("experiments/restore"), Is.EqualTo(1));
    }

    [Test]
    public async Task Delete_experiment_lost_before_it_was_applied_is_sent_again()
    {
        using var server = new FakeMlflowServer();
        using var client = Client(server);
        var (experimentId, _) = await RunWithTagAsync(client, "t");
        server.DropWithoutApplying("experiments/delete");

        await client.DeleteExperimentAsync(experimentId);

        Assert.That(server.Experiments[experimentId].Deleted, Is.True);
        Assert.That(server.Count("experiments/delete"), Is.EqualTo(2));
    }

    [Test]
    public void Write_without_a_result_whose_answer_is_lost_reports_outcome_unknown_with_method_and_path()
    {
        // Refit hands the transport failure of a call without a result on as it is; the pipeline's verdict travels with it.
        using var dropper = new DroppingServer();
        using var client = new MlflowClient(new MlflowClientOptions
        {
            TrackingUri = dropper.Url,
            Retry = new MlflowRetryOptions { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(10), BackoffJitter = TimeSpan.Zero },
        });

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogBatchAsync("r1", [new Metric("m", 1, 0, 0)], [], []));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(ex.Method, Is.EqualTo("POST"));
        Assert.That(ex.Path, Is.EqualTo("/api/2.0/mlflow/runs/log-batch"));
        Assert.That(dropper.Requests, Is.EqualTo(1), "log-batch is not sent blindly again");
    }
}
