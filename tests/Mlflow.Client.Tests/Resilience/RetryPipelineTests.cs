using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.ResponseBuilders;
using static Mlflow.Client.Tests.Resilience.ResilienceTestKit;

namespace Mlflow.Client.Tests.Resilience;

[TestFixture]
public class RetryPipelineTests
{
    [Test]
    public async Task Get_BurstOf5xx_IsRetried_ThenSucceeds()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(500), Status(502), Status(503), Status(504), Ok());
        var logs = new CapturingLoggerFactory();
        using var client = new MlflowClient(FastOptions(server.Url, logs));

        var run = await client.GetRunAsync("r1");

        Assert.That(run.Info.RunId, Is.EqualTo("r1"));
        Assert.That(server.Count(RunGet), Is.EqualTo(5), "four failures, then the success");
        Assert.That(logs.Warnings, Has.Count.EqualTo(4));
        Assert.That(logs.Warnings[0], Does.Contain("GET " + RunGet).And.Contain("attempt 1 of 8").And.Contain("HTTP 500"));
        Assert.That(logs.Warnings[3], Does.Contain("attempt 4 of 8").And.Contain("HTTP 504"));
    }

    [Test]
    public void Get_AlwaysFailing_StopsAfterMaxRetries()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(503));
        var options = FastOptions(server.Url);
        options.Retry.MaxRetries = 3;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(ex.OutcomeUnknown, Is.False);
        Assert.That(server.Count(RunGet), Is.EqualTo(4), "one attempt and three retries");
    }

    [TestCase(400, """{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}""")]
    [TestCase(400, "<html>Bad Request</html>")]
    [TestCase(401, "")]
    [TestCase(403, "forbidden")]
    [TestCase(404, """{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no run"}""")]
    [TestCase(405, "")]
    [TestCase(409, """{"error_code":"RESOURCE_CONFLICT","message":"x"}""")]
    public void ClientErrors_AreNeverRetried(int status, string body)
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(status, body), Ok());
        using var client = new MlflowClient(FastOptions(server.Url));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));

        Assert.That((int?)ex!.StatusCode, Is.EqualTo(status));
        Assert.That(ex.OutcomeUnknown, Is.False);
        Assert.That(server.Count(RunGet), Is.EqualTo(1));
    }

    [Test]
    public void Write_ClientError_IsNotRetried_AndItsOutcomeIsKnown()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Status(400, """{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}"""), Ok());
        using var client = new MlflowClient(FastOptions(server.Url));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(ex!.OutcomeUnknown, Is.False);
        Assert.That(server.Count(RunCreate), Is.EqualTo(1));
    }

    [Test]
    public async Task TooManyRequests_RetryAfterSeconds_IsHonoured()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(429).WithHeader("Retry-After", "1"), Ok());
        var logs = new CapturingLoggerFactory();
        using var client = new MlflowClient(FastOptions(server.Url, logs));
        var watch = Stopwatch.StartNew();

        await client.GetRunAsync("r1");

        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900)), "waited as the server asked, not the 1 ms backoff");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(4)));
        Assert.That(server.Count(RunGet), Is.EqualTo(2));
        Assert.That(logs.Warnings.Single(), Does.Contain("HTTP 429").And.Contain("00:00:01"));
    }

    [Test]
    public async Task ServiceUnavailable_RetryAfterHttpDate_IsHonoured_OnTheInjectedClock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(503).WithHeader("Retry-After", clock.GetUtcNow().AddSeconds(30).ToString("R")), Ok());
        var logs = new CapturingLoggerFactory();
        var options = FastOptions(server.Url, logs);
        options.RequestTimeout = TimeSpan.FromHours(1);
        options.Retry.TimeProvider = clock;
        using var client = new MlflowClient(options);

        var call = client.GetRunAsync("r1");
        await WaitUntil(() => logs.Warnings.Count == 1);
        Assert.That(logs.Warnings.Single(), Does.Contain("HTTP 503").And.Contain("00:00:30"), "the date is 30 s after the clock's now");
        await Task.Delay(50);

        clock.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(100);
        Assert.That(server.Count(RunGet), Is.EqualTo(1), "no retry before the date");

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(5))), Is.SameAs(call));
        await call;
        Assert.That(server.Count(RunGet), Is.EqualTo(2));
    }

    [Test]
    public async Task RetryAfter_IsCappedByMaxBackoff_AndIgnoredWhenDisabled()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(429).WithHeader("Retry-After", "3600"), Status(503).WithHeader("Retry-After", "3600"), Ok());
        var logs = new CapturingLoggerFactory();
        var options = FastOptions(server.Url, logs);
        options.Retry.MaxBackoff = TimeSpan.FromMilliseconds(50);
        using var client = new MlflowClient(options);
        var watch = Stopwatch.StartNew();

        await client.GetRunAsync("r1");

        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
        Assert.That(logs.Warnings, Has.All.Contain("00:00:00.05"));

        using var server2 = FixtureServer.Start();
        server2.Sequence(RunGet, Status(429).WithHeader("Retry-After", "3600"), Ok());
        var options2 = FastOptions(server2.Url);
        options2.Retry.RespectRetryAfter = false;
        using var client2 = new MlflowClient(options2);
        watch.Restart();
        await client2.GetRunAsync("r1");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task PayloadTooLarge_IsRetriedOnlyWithRetryAfter()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Status(413).WithHeader("Retry-After", "0"), Ok());
        using var client = new MlflowClient(FastOptions(server.Url));
        await client.CreateRunAsync("0");
        Assert.That(server.Count(RunCreate), Is.EqualTo(2));

        using var server2 = FixtureServer.Start();
        server2.Sequence(RunCreate, Status(413), Ok());
        using var client2 = new MlflowClient(FastOptions(server2.Url));
        var ex = Assert.ThrowsAsync<MlflowException>(() => client2.CreateRunAsync("0"));
        Assert.That((int?)ex!.StatusCode, Is.EqualTo(413));
        Assert.That(server2.Count(RunCreate), Is.EqualTo(1));
    }

    [Test]
    public async Task SlowAnswer_TimesOutPerAttempt_ThenTheRetrySucceeds()
    {
        using var server = FixtureServer.Start();
        server.SlowThenFast(RunGet, TimeSpan.FromSeconds(2));
        var options = FastOptions(server.Url);
        options.RequestTimeout = TimeSpan.FromMilliseconds(300);
        using var client = new MlflowClient(options);
        var watch = Stopwatch.StartNew();

        var run = await client.GetRunAsync("r1");

        Assert.That(run.Info.RunId, Is.EqualTo("r1"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1.8)), "the slow attempt was abandoned");
        Assert.That(await server.CountEventually(RunGet, 2, TimeSpan.FromSeconds(3)), Is.EqualTo(2));
    }

    [Test]
    public async Task SlowAnswers_FailAfterTheBudget_WithAClearTimeout()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Ok().WithDelay(TimeSpan.FromSeconds(1)));
        var options = FastOptions(server.Url);
        options.RequestTimeout = TimeSpan.FromMilliseconds(150);
        options.Retry.MaxRetries = 2;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));

        Assert.That(ex!.Message, Does.Contain("timed out").And.Contain("GET " + RunGet));
        Assert.That(ex.StatusCode, Is.Null);
        Assert.That(ex.OutcomeUnknown, Is.False, "a read changes nothing");
        Assert.That(await server.CountEventually(RunGet, 3, TimeSpan.FromSeconds(3)), Is.EqualTo(3));
    }

    [Test]
    public async Task SlowCreate_IsNotRetried_AndItsOutcomeIsUnknown()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Ok().WithDelay(TimeSpan.FromSeconds(1)));
        var options = FastOptions(server.Url);
        options.RequestTimeout = TimeSpan.FromMilliseconds(150);
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(ex.Message, Does.Contain("timed out").And.Contain("outcome unknown"));
        await Task.Delay(1200);
        Assert.That(server.Count(RunCreate), Is.EqualTo(1));
    }

    [Test]
    public async Task Get_MalformedAnswer_IsRetried()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Response.Create().WithFault(FaultType.MALFORMED_RESPONSE_CHUNK), Ok());
        using var client = new MlflowClient(FastOptions(server.Url));

        var run = await client.GetRunAsync("r1");

        Assert.That(run.Info.RunId, Is.EqualTo("r1"));
        Assert.That(server.Count(RunGet), Is.EqualTo(2));
    }

    [Test]
    public void Get_AlwaysMalformed_FailsClearly()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Response.Create().WithFault(FaultType.MALFORMED_RESPONSE_CHUNK));
        var options = FastOptions(server.Url);
        options.Retry.MaxRetries = 1;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ex.Message, Does.Contain("could not be read"));
        Assert.That(server.Count(RunGet), Is.EqualTo(2));
    }

    [Test]
    public async Task EmptySuccess_IsAValidAnswer_NotAFault()
    {
        // WireMock's EMPTY_RESPONSE is a 200 without body, which MLflow's clients read as {}.
        const string setTag = "/api/2.0/mlflow/runs/set-tag";
        using var server = FixtureServer.Start();
        server.Sequence(setTag, Response.Create().WithFault(FaultType.EMPTY_RESPONSE));
        using var client = new MlflowClient(FastOptions(server.Url));

        await client.SetTagAsync("r1", "k", "v");

        Assert.That(server.Count(setTag), Is.EqualTo(1));
    }

    [Test]
    public void Create_MalformedAnswer_IsNotRetried_AndItsOutcomeIsUnknown()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Response.Create().WithFault(FaultType.MALFORMED_RESPONSE_CHUNK), Ok());
        using var client = new MlflowClient(FastOptions(server.Url));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(server.Count(RunCreate), Is.EqualTo(1));
    }

    [Test]
    public void Get_ConnectionDroppedWithoutAnswer_IsRetried()
    {
        using var dropper = new DroppingServer();
        var options = FastOptions(dropper.Url);
        options.Retry.MaxRetries = 2;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));

        Assert.That(ex!.StatusCode, Is.Null);
        Assert.That(ex.OutcomeUnknown, Is.False);
        Assert.That(dropper.Requests, Is.EqualTo(3));
    }

    [Test]
    public void Create_ConnectionDroppedWithoutAnswer_IsNotRetried_AndItsOutcomeIsUnknown()
    {
        using var dropper = new DroppingServer();
        using var client = new MlflowClient(FastOptions(dropper.Url));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(ex!.StatusCode, Is.Null);
        Assert.That(ex.OutcomeUnknown, Is.True, "the request was sent and its answer lost");
        Assert.That(dropper.Requests, Is.EqualTo(1));
    }

    [TestCase(500)]
    [TestCase(502)]
    [TestCase(504)]
    public void Create_AmbiguousServerError_IsNotRetried_AndItsOutcomeIsUnknown(int status)
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Status(status, "<html>Bad Gateway</html>"), Ok());
        var logs = new CapturingLoggerFactory();
        using var client = new MlflowClient(FastOptions(server.Url, logs));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That((int?)ex!.StatusCode, Is.EqualTo(status));
        Assert.That(ex.OutcomeUnknown, Is.True);
        Assert.That(ex.Message, Does.Contain("outcome unknown"));
        Assert.That(server.Count(RunCreate), Is.EqualTo(1));
        Assert.That(logs.Warnings.Single(), Does.Contain("not retried").And.Contain("POST " + RunCreate));
    }

    [TestCase(429)]
    [TestCase(503)]
    [TestCase(408)]
    public async Task Create_Refused_IsRetried(int status)
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Status(status), Ok());
        using var client = new MlflowClient(FastOptions(server.Url));

        var run = await client.CreateRunAsync("0");

        Assert.That(run.Info.RunId, Is.EqualTo("r1"));
        Assert.That(server.Count(RunCreate), Is.EqualTo(2));
    }

    [Test]
    public async Task IdempotentWrite_AmbiguousFailure_IsRetried()
    {
        const string setTag = "/api/2.0/mlflow/runs/set-tag";
        using var server = FixtureServer.Start();
        server.Sequence(setTag, Status(502), Response.Create().WithFault(FaultType.MALFORMED_RESPONSE_CHUNK), Ok("{}"));
        using var client = new MlflowClient(FastOptions(server.Url));

        await client.SetTagAsync("r1", "k", "v");

        Assert.That(server.Count(setTag), Is.EqualTo(3));
    }

    [Test]
    public void IdempotentWrite_ExhaustedAfterAmbiguousFailure_ReportsOutcomeUnknown()
    {
        const string setTag = "/api/2.0/mlflow/runs/set-tag";
        using var server = FixtureServer.Start();
        server.Sequence(setTag, Status(502), Status(503));
        var options = FastOptions(server.Url);
        options.Retry.MaxRetries = 1;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.SetTagAsync("r1", "k", "v"));

        Assert.That((int?)ex!.StatusCode, Is.EqualTo(503));
        Assert.That(ex.OutcomeUnknown, Is.True, "the first attempt's 502 may have been applied");
    }

    [Test]
    public async Task ConnectionRefused_OnCreate_IsRetried_BecauseNothingWasSent()
    {
        var url = await ClosedPortUrl();
        var logs = new CapturingLoggerFactory();
        var options = FastOptions(url, logs);
        options.Retry.MaxRetries = 2;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(ex!.StatusCode, Is.Null);
        Assert.That(ex.OutcomeUnknown, Is.False);
        Assert.That(ex.Message, Does.Contain("could not be reached"));
        Assert.That(logs.Warnings, Has.Count.EqualTo(2));
        Assert.That(logs.Warnings, Has.All.Contain("POST " + RunCreate).And.Contain("ConnectionError"));
    }

    [Test]
    public async Task CircuitBreaker_OpensAfterRepeatedFailures_FailsFastWithoutSending_ThenCloses()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(503), Status(503), Ok());
        var logs = new CapturingLoggerFactory();
        var options = FastOptions(server.Url, logs);
        options.RequestTimeout = TimeSpan.FromHours(1);
        options.Retry.MaxRetries = 0;
        options.Retry.TimeProvider = clock;
        options.Retry.CircuitBreakerMinimumThroughput = 2;
        options.Retry.CircuitBreakerFailureRatio = 0.5;
        options.Retry.CircuitBreakerBreakDuration = TimeSpan.FromSeconds(10);
        using var client = new MlflowClient(options);

        Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));
        Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));
        Assert.That(server.Count(RunGet), Is.EqualTo(2));

        var open = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));
        var openWrite = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(open!.StatusCode, Is.Null);
        Assert.That(open.Message, Does.Contain("circuit breaker is open").And.Contain("not sent"));
        Assert.That(openWrite!.OutcomeUnknown, Is.False, "nothing was sent");
        Assert.That(server.Count(RunGet), Is.EqualTo(2), "an open circuit sends nothing");
        Assert.That(server.Count(RunCreate), Is.EqualTo(0));
        Assert.That(logs.Warnings, Has.Some.Contain("circuit breaker opened"));

        clock.Advance(TimeSpan.FromSeconds(11));
        var run = await client.GetRunAsync("r1");

        Assert.That(run.Info.RunId, Is.EqualTo("r1"));
        Assert.That(server.Count(RunGet), Is.EqualTo(3));
        await client.GetRunAsync("r1");
        Assert.That(server.Count(RunGet), Is.EqualTo(4), "closed again");
    }

    [Test]
    public void MaxRetriesZero_SendsOnce()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(503), Ok());
        var options = FastOptions(server.Url);
        options.Retry.MaxRetries = 0;
        using var client = new MlflowClient(options);

        Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r1"));
        Assert.That(server.Count(RunGet), Is.EqualTo(1));
    }

    [Test]
    public void Disabled_SendsOnce_AndStillReportsUnknownOutcomes()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Status(502), Ok());
        var options = FastOptions(server.Url);
        options.Retry.Enabled = false;
        using var client = new MlflowClient(options);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateRunAsync("0"));

        Assert.That(ex!.OutcomeUnknown, Is.True);
        Assert.That(server.Count(RunCreate), Is.EqualTo(1));
    }

    [Test]
    public void CallerCancellation_IsNeverRetried()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Ok().WithDelay(TimeSpan.FromSeconds(2)));
        var options = FastOptions(server.Url);
        using var client = new MlflowClient(options);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        Assert.That(async () => await client.GetRunAsync("r1", cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(server.Count(RunGet), Is.LessThanOrEqualTo(1));
    }

    private static async Task<string> ClosedPortUrl()
    {
        string url;
        using (var probe = FixtureServer.Start())
        {
            url = probe.Url;
        }

        await Task.Delay(50);
        return url;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }

        Assert.That(condition(), Is.True, "condition not met within 5 s");
    }
}
