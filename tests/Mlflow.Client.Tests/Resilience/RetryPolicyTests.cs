using System.Net;
using Mlflow.Client.Resilience;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Resilience;

[TestFixture]
internal sealed class RetryPolicyTests
{
    private static EnvironmentReader Env(params (string Key, string Value)[] values)
        => EnvironmentReader.FromDictionary(values.ToDictionary(v => v.Key, v => v.Value));

    [Test]
    public void Backoff_FollowsMlflowsSchedule_WithoutJitter()
    {
        var options = new MlflowRetryOptions { BackoffJitter = TimeSpan.Zero };

        var delays = Enumerable.Range(1, 7).Select(n => RetryDelays.Backoff(options, n, 0.99).TotalSeconds);

        Assert.That(delays, Is.EqualTo(new double[] { 0, 4, 8, 16, 32, 64, 120 }));
    }

    [Test]
    public void Backoff_AddsJitterWithinBounds_AndStaysCapped()
    {
        var options = new MlflowRetryOptions();

        Assert.That(RetryDelays.Backoff(options, 1, 0.5), Is.EqualTo(TimeSpan.FromSeconds(0.5)));
        Assert.That(RetryDelays.Backoff(options, 3, 0.25), Is.EqualTo(TimeSpan.FromSeconds(8.25)));
        Assert.That(RetryDelays.Backoff(options, 9, 0.99), Is.EqualTo(TimeSpan.FromSeconds(120)));
    }

    [Test]
    public void RetryAfter_ReadsSecondsAndDates_OnlyFor413_429_503()
    {
        var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var cap = TimeSpan.FromSeconds(120);
        using var seconds = Answer(HttpStatusCode.TooManyRequests, "7");
        using var date = Answer(HttpStatusCode.ServiceUnavailable, now.AddSeconds(42).ToString("R"));
        using var past = Answer(HttpStatusCode.ServiceUnavailable, now.AddSeconds(-42).ToString("R"));
        using var huge = Answer(HttpStatusCode.RequestEntityTooLarge, "100000");
        using var other = Answer(HttpStatusCode.BadGateway, "7");

        Assert.That(RetryDelays.RetryAfter(seconds, now, cap), Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(RetryDelays.RetryAfter(date, now, cap), Is.EqualTo(TimeSpan.FromSeconds(42)));
        Assert.That(RetryDelays.RetryAfter(past, now, cap), Is.EqualTo(TimeSpan.Zero));
        Assert.That(RetryDelays.RetryAfter(huge, now, cap), Is.EqualTo(cap));
        Assert.That(RetryDelays.RetryAfter(other, now, cap), Is.Null);
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, string retryAfter)
    {
        var response = new HttpResponseMessage(status);
        response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        return response;
    }

    [TestCase("GET", "/api/2.0/mlflow/runs/get", EndpointKind.Read)]
    [TestCase("GET", "/prefix/api/2.0/mlflow/registered-models/get", EndpointKind.Read)]
    [TestCase("POST", "/api/2.0/mlflow/runs/search", EndpointKind.Read)]
    [TestCase("POST", "/api/2.0/mlflow/experiments/search", EndpointKind.Read)]
    [TestCase("POST", "/api/2.0/mlflow/runs/set-tag", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/update", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/log-parameter", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/delete", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/restore", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/experiments/update", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/ajax-api/2.0/mlflow/experiments/set-experiment-tag", EndpointKind.IdempotentWrite)]
    [TestCase("PATCH", "/api/2.0/mlflow/registered-models/update", EndpointKind.IdempotentWrite)]
    [TestCase("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model.pkl", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/experiments/create", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/create", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/log-batch", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/log-metric", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/runs/delete-tag", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/registered-models/create", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/model-versions/create", EndpointKind.NonIdempotentWrite)]
    [TestCase("DELETE", "/api/2.0/mlflow/registered-models/delete", EndpointKind.NonIdempotentWrite)]
    [TestCase("PATCH", "/api/2.0/mlflow/webhooks/0ce7c431-0b2e-47e8-9bc3-9b0dd3d04d9b", EndpointKind.IdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/webhooks", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/api/2.0/mlflow/webhooks/0ce7c431-0b2e-47e8-9bc3-9b0dd3d04d9b/test", EndpointKind.NonIdempotentWrite)]
    [TestCase("DELETE", "/api/2.0/mlflow/webhooks/0ce7c431-0b2e-47e8-9bc3-9b0dd3d04d9b", EndpointKind.NonIdempotentWrite)]
    [TestCase("GET", "/api/2.0/mlflow-artifacts/presigned/1/r/artifacts/model.pkl", EndpointKind.Read)]
    [TestCase("POST", "/api/2.0/mlflow/some/new-endpoint", EndpointKind.NonIdempotentWrite)]
    [TestCase("POST", "/not-the-api", EndpointKind.NonIdempotentWrite)]
    public void Endpoints_AreClassified(string method, string path, EndpointKind expected)
    {
        Assert.That(EndpointClassifier.Classify(new HttpMethod(method), new Uri("http://h:5000" + path + "?x=1")), Is.EqualTo(expected));
    }

    [TestCase(408, null, MlflowFailureKind.NotApplied)]
    [TestCase(413, null, MlflowFailureKind.NotApplied)]
    [TestCase(429, null, MlflowFailureKind.NotApplied)]
    [TestCase(503, null, MlflowFailureKind.NotApplied)]
    [TestCase(500, null, MlflowFailureKind.OutcomeUnknown)]
    [TestCase(502, null, MlflowFailureKind.OutcomeUnknown)]
    [TestCase(504, null, MlflowFailureKind.OutcomeUnknown)]
    [TestCase(500, "INTERNAL_ERROR", MlflowFailureKind.Rejected)]
    [TestCase(502, "INTERNAL_ERROR", MlflowFailureKind.OutcomeUnknown)]
    [TestCase(400, "INVALID_PARAMETER_VALUE", MlflowFailureKind.Rejected)]
    [TestCase(400, null, MlflowFailureKind.Rejected)]
    [TestCase(401, null, MlflowFailureKind.Rejected)]
    [TestCase(403, null, MlflowFailureKind.Rejected)]
    [TestCase(404, null, MlflowFailureKind.Rejected)]
    [TestCase(501, null, MlflowFailureKind.Rejected)]
    public void Statuses_AreClassified(int status, string? errorCode, MlflowFailureKind expected)
        => Assert.That(FailureClassifier.Classify((HttpStatusCode)status, errorCode), Is.EqualTo(expected));

    [Test]
    public void Exceptions_AreClassified()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.That(FailureClassifier.Classify(new HttpRequestException(HttpRequestError.ConnectionError, "refused"), default), Is.EqualTo(MlflowFailureKind.NotApplied));
        Assert.That(FailureClassifier.Classify(new HttpRequestException(HttpRequestError.NameResolutionError, "dns"), default), Is.EqualTo(MlflowFailureKind.NotApplied));
        Assert.That(FailureClassifier.Classify(new HttpRequestException(HttpRequestError.ResponseEnded, "lost"), default), Is.EqualTo(MlflowFailureKind.OutcomeUnknown));
        Assert.That(FailureClassifier.Classify(new HttpRequestException(HttpRequestError.SecureConnectionError, "tls"), default), Is.EqualTo(MlflowFailureKind.Unreachable));
        Assert.That(FailureClassifier.Classify(new IOException("reset"), default), Is.EqualTo(MlflowFailureKind.OutcomeUnknown));
        Assert.That(FailureClassifier.Classify(new TaskCanceledException("timeout"), default), Is.EqualTo(MlflowFailureKind.OutcomeUnknown));
        Assert.That(FailureClassifier.Classify(new TaskCanceledException("caller"), cancelled.Token), Is.EqualTo(MlflowFailureKind.Cancelled));
        Assert.That(FailureClassifier.Classify(new InvalidOperationException(), default), Is.EqualTo(MlflowFailureKind.Rejected));
    }

    [TestCase(MlflowFailureKind.OutcomeUnknown, EndpointKind.Read, MlflowFailureKind.NotApplied)]
    [TestCase(MlflowFailureKind.OutcomeUnknown, EndpointKind.IdempotentWrite, MlflowFailureKind.OutcomeUnknown)]
    [TestCase(MlflowFailureKind.OutcomeUnknown, EndpointKind.NonIdempotentWrite, MlflowFailureKind.OutcomeUnknown)]
    [TestCase(MlflowFailureKind.Rejected, EndpointKind.Read, MlflowFailureKind.Rejected)]
    public void AReadThatGotNoAnswer_ChangedNothing(MlflowFailureKind attempt, EndpointKind endpoint, MlflowFailureKind expected)
        => Assert.That(FailureClassifier.ForEndpoint(attempt, endpoint), Is.EqualTo(expected));

    [Test]
    public void Environment_FillsTheFourHttpVariables()
    {
        var resolved = new MlflowClientOptions().WithEnvironmentDefaults(Env(
            (MlflowEnvironmentVariables.HttpRequestMaxRetries, "3"),
            (MlflowEnvironmentVariables.HttpRequestBackoffFactor, "0.5"),
            (MlflowEnvironmentVariables.HttpRequestBackoffJitter, "0.25"),
            (MlflowEnvironmentVariables.HttpRespectRetryAfterHeader, "false"),
            (MlflowEnvironmentVariables.HttpRequestTimeout, "9")));

        Assert.That(resolved.Retry.MaxRetries, Is.EqualTo(3));
        Assert.That(resolved.Retry.BackoffFactor, Is.EqualTo(TimeSpan.FromSeconds(0.5)));
        Assert.That(resolved.Retry.BackoffJitter, Is.EqualTo(TimeSpan.FromSeconds(0.25)));
        Assert.That(resolved.Retry.RespectRetryAfter, Is.False);
        Assert.That(resolved.RequestTimeout, Is.EqualTo(TimeSpan.FromSeconds(9)));
    }

    [Test]
    public void Environment_DefaultsWithoutVariables_AndExplicitValuesWin_AndTheOriginalIsNotChanged()
    {
        var defaults = new MlflowClientOptions().WithEnvironmentDefaults(Env());
        Assert.That(defaults.Retry.MaxRetries, Is.EqualTo(7));
        Assert.That(defaults.Retry.BackoffFactor, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(defaults.Retry.BackoffJitter, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(defaults.Retry.MaxBackoff, Is.EqualTo(TimeSpan.FromSeconds(120)));
        Assert.That(defaults.Retry.RespectRetryAfter, Is.True);

        var options = new MlflowClientOptions { Retry = { MaxRetries = 2, BackoffFactor = TimeSpan.FromSeconds(1) } };
        var resolved = options.WithEnvironmentDefaults(Env(
            (MlflowEnvironmentVariables.HttpRequestMaxRetries, "5"),
            (MlflowEnvironmentVariables.HttpRequestBackoffFactor, "9")));

        Assert.That(resolved.Retry.MaxRetries, Is.EqualTo(2));
        Assert.That(resolved.Retry.BackoffFactor, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(resolved.Retry, Is.Not.SameAs(options.Retry), "a copy, so the caller's options stay as they were");
    }

    [TestCase(MlflowEnvironmentVariables.HttpRequestMaxRetries, "many")]
    [TestCase(MlflowEnvironmentVariables.HttpRequestBackoffFactor, "slow")]
    [TestCase(MlflowEnvironmentVariables.HttpRequestBackoffJitter, "-1")]
    [TestCase(MlflowEnvironmentVariables.HttpRespectRetryAfterHeader, "sometimes")]
    public void Environment_BadValues_NameTheVariable(string variable, string value)
    {
        var ex = Assert.Throws<ArgumentException>(() => new MlflowClientOptions().WithEnvironmentDefaults(Env((variable, value))));

        Assert.That(ex!.Message, Does.Contain(variable));
    }

    [TestCase(10)]
    [TestCase(-1)]
    public void MaxRetries_MustBeBelowTen(int retries)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MlflowClient(new MlflowClientOptions { TrackingUri = "http://127.0.0.1:1", Retry = { MaxRetries = retries } }));

        Assert.That(ex!.Message, Does.Contain(MlflowEnvironmentVariables.HttpRequestMaxRetries));
    }

    [Test]
    public void MaxRetries_FromTheEnvironment_IsValidatedToo()
    {
        var resolved = new MlflowClientOptions().WithEnvironmentDefaults(Env((MlflowEnvironmentVariables.HttpRequestMaxRetries, "12")));

        Assert.Throws<ArgumentOutOfRangeException>(resolved.Validate);
    }

    [Test]
    public void OtherSettings_AreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(new MlflowRetryOptions { BackoffFactor = TimeSpan.FromSeconds(120) }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new MlflowRetryOptions { CircuitBreakerFailureRatio = 0 }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new MlflowRetryOptions { CircuitBreakerMinimumThroughput = 1 }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new MlflowRetryOptions { CircuitBreakerBreakDuration = TimeSpan.FromMilliseconds(100) }.Validate);
        Assert.That(new MlflowRetryOptions { MaxRetries = 0 }.Validate, Throws.Nothing);
    }
}
