namespace Mlflow.Client;

/// <summary>
/// How failed HTTP requests are retried and when the client stops calling a failing server
/// (<see cref="MlflowClientOptions.Retry"/>). The defaults follow MLflow's Python client: up to 7 retries, the first
/// one at once, then <see cref="BackoffFactor"/>·2^(n-1) (4 s, 8 s, 16 s, …) capped at <see cref="MaxBackoff"/>,
/// each plus a random jitter of up to <see cref="BackoffJitter"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Retried</b>: connection failures, per-attempt timeouts (<see cref="MlflowClientOptions.RequestTimeout"/>) and
/// HTTP 408, 429, 500, 502, 503, 504 (413 only with a <c>Retry-After</c> header). <b>Never retried</b>: other 4xx
/// answers (400 with or without an MLflow error code, 401, 403, 404, 405, 409, …) and requests the caller cancelled.
/// </para>
/// <para>
/// <b>Writes that must not run twice</b> (<c>experiments/create</c>, <c>runs/create</c>, <c>runs/log-metric</c>,
/// <c>runs/log-batch</c>, <c>runs/delete-tag</c>, <c>registered-models/create</c>, <c>model-versions/create</c> and
/// every other write not known to be idempotent) are retried only after failures that prove the server did not
/// apply them: no connection could be made, or the server refused with 408, 413, 429 or 503. A timeout, a lost
/// connection, 500, 502 or 504 may hide an applied request; such a call fails at once with an
/// <see cref="MlflowException"/> whose <see cref="MlflowException.OutcomeUnknown"/> is <see langword="true"/>.
/// Reads (GET, and the POST searches) and idempotent writes (<c>runs/set-tag</c>, <c>runs/update</c>,
/// <c>runs/log-parameter</c>, <c>runs/delete</c>, <c>runs/restore</c>, <c>experiments/update</c>,
/// <c>experiments/set-experiment-tag</c>, registry set-tag/update/alias) are retried after any transient failure.
/// </para>
/// <para>
/// <b>Circuit breaker</b>: when at least <see cref="CircuitBreakerFailureRatio"/> of the last
/// <see cref="CircuitBreakerSamplingDuration"/>'s attempts (and at least <see cref="CircuitBreakerMinimumThroughput"/>
/// of them) failed transiently, calls fail at once for <see cref="CircuitBreakerBreakDuration"/> without sending
/// anything, with an <see cref="MlflowException"/> that has no status code.
/// </para>
/// </remarks>
public sealed class MlflowRetryOptions
{
    /// <summary>Default <see cref="MaxRetries"/>: 7, as MLflow's <c>MLFLOW_HTTP_REQUEST_MAX_RETRIES</c>.</summary>
    internal const int DefaultMaxRetries = 7;

    /// <summary>The largest accepted <see cref="MaxRetries"/> (MLflow requires fewer than 10).</summary>
    internal const int MaxAllowedRetries = 9;

    /// <summary>Default <see cref="BackoffFactor"/>: 2 s (<c>MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR</c>).</summary>
    internal static readonly TimeSpan DefaultBackoffFactor = TimeSpan.FromSeconds(2);

    /// <summary>Default <see cref="BackoffJitter"/>: 1 s (<c>MLFLOW_HTTP_REQUEST_BACKOFF_JITTER</c>).</summary>
    internal static readonly TimeSpan DefaultBackoffJitter = TimeSpan.FromSeconds(1);

    /// <summary>Default <see cref="MaxBackoff"/>: 120 s.</summary>
    internal static readonly TimeSpan DefaultMaxBackoff = TimeSpan.FromSeconds(120);

    /// <summary>Whether retries, per-attempt timeouts and the circuit breaker are applied at all. Default <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Retries after the first attempt, 0 to 9 (<c>MLFLOW_HTTP_REQUEST_MAX_RETRIES</c>); 0 disables retries but keeps timeouts and the circuit breaker.</summary>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>Base of the exponential backoff: retry n (n ≥ 2) waits <c>factor·2^(n-1)</c> (<c>MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR</c>, seconds; below 120 s).</summary>
    public TimeSpan BackoffFactor { get; set; } = DefaultBackoffFactor;

    /// <summary>Upper bound of the uniform random delay added to each backoff (<c>MLFLOW_HTTP_REQUEST_BACKOFF_JITTER</c>, seconds).</summary>
    public TimeSpan BackoffJitter { get; set; } = DefaultBackoffJitter;

    /// <summary>Cap of any single wait, backoff or <c>Retry-After</c>.</summary>
    public TimeSpan MaxBackoff { get; set; } = DefaultMaxBackoff;

    /// <summary>
    /// Wait as long as a <c>Retry-After</c> header (seconds or HTTP date) of a 413, 429 or 503 answer asks, capped by
    /// <see cref="MaxBackoff"/> (<c>MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER</c>). Default <see langword="true"/>.
    /// </summary>
    public bool RespectRetryAfter { get; set; } = true;

    /// <summary>Share of failed attempts within the sampling window that opens the circuit, in (0, 1]. Default 0.5.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Window over which failures are counted (at least 0.5 s). Default 30 s.</summary>
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Attempts within the window before the circuit may open (at least 2). Default 20: more than one call's retries
    /// within 30 s, so a single call rides out an outage with its own backoff and only concurrent traffic trips it.
    /// </summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 20;

    /// <summary>How long an open circuit fails calls at once before letting one probe through (at least 0.5 s). Default 15 s.</summary>
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The clock of backoffs, timeouts and the circuit breaker; a seam for tests.</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A copy in which every value still at its default is taken from the environment, when set there.</summary>
    internal MlflowRetryOptions WithEnvironmentDefaults(EnvironmentReader env)
    {
        var copy = (MlflowRetryOptions)MemberwiseClone();
        if (copy.MaxRetries == DefaultMaxRetries && env.GetInt(MlflowEnvironmentVariables.HttpRequestMaxRetries) is { } retries)
        {
            copy.MaxRetries = retries;
        }

        if (copy.BackoffFactor == DefaultBackoffFactor && env.GetDouble(MlflowEnvironmentVariables.HttpRequestBackoffFactor) is { } factor)
        {
            copy.BackoffFactor = Seconds(factor, MlflowEnvironmentVariables.HttpRequestBackoffFactor);
        }

        if (copy.BackoffJitter == DefaultBackoffJitter && env.GetDouble(MlflowEnvironmentVariables.HttpRequestBackoffJitter) is { } jitter)
        {
            copy.BackoffJitter = Seconds(jitter, MlflowEnvironmentVariables.HttpRequestBackoffJitter);
        }

        if (copy.RespectRetryAfter && env.GetBool(MlflowEnvironmentVariables.HttpRespectRetryAfterHeader) == false)
        {
            copy.RespectRetryAfter = false;
        }

        return copy;
    }

    private static TimeSpan Seconds(double value, string variable)
        => double.IsFinite(value) && value >= 0 && value < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(value)
            : throw new ArgumentException($"Environment variable {variable} must be a non-negative number of seconds, not '{value}'.");

    /// <summary>Checks the options; throws <see cref="ArgumentOutOfRangeException"/> naming the setting at fault.</summary>
    internal void Validate()
    {
        if (MaxRetries is < 0 or > MaxAllowedRetries)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, $"Retry.MaxRetries ({MlflowEnvironmentVariables.HttpRequestMaxRetries}) must be between 0 and {MaxAllowedRetries}.");
        }

        if (BackoffFactor < TimeSpan.Zero || BackoffFactor >= DefaultMaxBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffFactor), BackoffFactor, $"Retry.BackoffFactor ({MlflowEnvironmentVariables.HttpRequestBackoffFactor}) must be at least 0 and below 120 s.");
        }

        if (BackoffJitter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffJitter), BackoffJitter, $"Retry.BackoffJitter ({MlflowEnvironmentVariables.HttpRequestBackoffJitter}) must not be negative.");
        }

        if (MaxBackoff < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, "Retry.MaxBackoff must not be negative.");
        }

        if (!(CircuitBreakerFailureRatio is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerFailureRatio), CircuitBreakerFailureRatio, "Retry.CircuitBreakerFailureRatio must be above 0 and at most 1.");
        }

        if (CircuitBreakerMinimumThroughput < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerMinimumThroughput), CircuitBreakerMinimumThroughput, "Retry.CircuitBreakerMinimumThroughput must be at least 2.");
        }

        if (CircuitBreakerSamplingDuration < MinimumBreakerTime || CircuitBreakerSamplingDuration > MaximumBreakerTime)
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerSamplingDuration), CircuitBreakerSamplingDuration, "Retry.CircuitBreakerSamplingDuration must be between 0.5 s and 1 day.");
        }

        if (CircuitBreakerBreakDuration < MinimumBreakerTime || CircuitBreakerBreakDuration > MaximumBreakerTime)
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerBreakDuration), CircuitBreakerBreakDuration, "Retry.CircuitBreakerBreakDuration must be between 0.5 s and 1 day.");
        }
    }

    private static readonly TimeSpan MinimumBreakerTime = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaximumBreakerTime = TimeSpan.FromDays(1);

    /// <summary>A description of the settings.</summary>
    /// <returns>The settings as text.</returns>
    public override string ToString()
        => $"MlflowRetryOptions {{ Enabled = {Enabled}, MaxRetries = {MaxRetries}, BackoffFactor = {BackoffFactor}, BackoffJitter = {BackoffJitter}, MaxBackoff = {MaxBackoff}, RespectRetryAfter = {RespectRetryAfter} }}";
}
