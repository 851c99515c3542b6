using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Mlflow.Client.Diagnostics;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Mlflow.Client.Resilience;

/// <summary>
/// Runs every request through the client's resilience pipeline. Each attempt reads the whole answer (except file
/// downloads), so a connection lost mid-body is a failed attempt like any other. Each attempt's failure is classified
/// once (<see cref="FailureClassifier"/>), and a request that finally fails leaves as one <see cref="MlflowException"/>
/// whose <see cref="MlflowException.Kind"/> accounts for every attempt (a write one attempt of which may have been
/// applied stays <see cref="MlflowFailureKind.OutcomeUnknown"/>).
/// </summary>
internal sealed class ResilienceHandler : DelegatingHandler
{
    private readonly MlflowPipelines _pipelines;
    private readonly TimeSpan _requestTimeout;

    public ResilienceHandler(MlflowPipelines pipelines, TimeSpan requestTimeout)
    {
        _pipelines = pipelines;
        _requestTimeout = requestTimeout;
    }

    /// <summary>
    /// Sends the request through the pipeline inside one <c>mlflow.http</c> span and one
    /// <c>mlflow.client.request.duration</c> measurement: method, path template (no query string, no user info),
    /// status, attempts and failure kind; never a header or a body.
    /// </summary>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var state = new AttemptState(
            this,
            request,
            EndpointClassifier.Classify(request.Method, request.RequestUri),
            EndpointClassifier.IsDownload(request.Method, request.RequestUri),
            EndpointClassifier.ExpectsJson(request.RequestUri),
            cancellationToken);
        var template = MlflowTelemetry.PathTemplate(request.RequestUri);
        var method = request.Method.Method;
        using var activity = MlflowTelemetry.Source.StartActivity("mlflow.http", ActivityKind.Client);
        if (activity is not null)
        {
            activity.DisplayName = method + " " + template;
            activity.SetTag("http.request.method", method);
            activity.SetTag("url.template", template);
            if (request.RequestUri is { IsAbsoluteUri: true } uri)
            {
                activity.SetTag("server.address", uri.Host); // the host only: never the user info
                activity.SetTag("server.port", uri.Port);
            }
        }

        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string? failure = null;
        try
        {
            var response = await SendThroughPipelineAsync(request, state, cancellationToken).ConfigureAwait(false);
            status = (int)response.StatusCode;
            return response;
        }
        catch (MlflowException ex)
        {
            status = ex.StatusCode is { } code ? (int)code : null;
            failure = ex.Kind.ToString();
            throw;
        }
        catch (OperationCanceledException)
        {
            failure = nameof(MlflowFailureKind.Cancelled);
            throw;
        }
        finally
        {
            if (activity is not null)
            {
                activity.SetTag("http.response.status_code", status);
                activity.SetTag("mlflow.attempts", state.Attempts);
                if (failure is not null)
                {
                    activity.SetTag("mlflow.failure_kind", failure);
                    activity.SetTag("error.type", failure);
                    activity.SetStatus(ActivityStatusCode.Error, failure);
                }
            }

            if (MlflowTelemetry.RequestDuration.Enabled)
            {
                MlflowTelemetry.RequestDuration.Record(
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    new KeyValuePair<string, object?>("http.request.method", method),
                    new KeyValuePair<string, object?>("url.template", template),
                    new KeyValuePair<string, object?>("http.response.status_code", status));
            }
        }
    }

    private async Task<HttpResponseMessage> SendThroughPipelineAsync(HttpRequestMessage request, AttemptState state, CancellationToken cancellationToken)
    {
        if (request.Content is IStreamedRequestContent streamed)
        {
            // A caller's stream is never buffered whole; one that cannot be rewound gets exactly one attempt.
            if (!streamed.CanResend)
            {
                state.Attempts++;
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }
        else if (request.Content is not null)
        {
            // Every attempt sends the same bytes: buffer the body once.
#if NET9_0_OR_GREATER
            await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
#else
            await request.Content.LoadIntoBufferAsync().ConfigureAwait(false);
#endif
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(MlflowResilience.RequestKey, request);
        context.Properties.Set(MlflowResilience.KindKey, state.Kind);
        context.Properties.Set(MlflowResilience.CallerTokenKey, cancellationToken);
        context.Properties.Set(MlflowResilience.AttemptStateKey, state);
        Outcome<HttpResponseMessage> outcome;
        try
        {
            var pipeline = RequestScope.Flags.HasFlag(RequestFlags.BypassCircuitBreaker) ? _pipelines.WithoutBreaker : _pipelines.Main;
            outcome = await pipeline.ExecuteOutcomeAsync(
                static async (ctx, s) =>
                {
                    try
                    {
                        return Outcome.FromResult(await s.Handler.SendOnceAsync(s, ctx.CancellationToken).ConfigureAwait(false));
                    }
#pragma warning disable CA1031 // every failure becomes an outcome the strategies judge
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        return Outcome.FromException<HttpResponseMessage>(ex);
                    }
                },
                context,
                state).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (outcome.Exception is { } exception)
        {
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                ExceptionDispatchInfo.Capture(exception).Throw();
            }

            // Every failure without an answer leaves here as one MlflowException whose kind is decided now.
            throw new MlflowException(null, null, Describe(exception), request.Method.Method, MlflowResilience.PathOf(request), Cause(exception), state.FinalKind(FailureClassifier.Classify(exception, cancellationToken)));
        }

        var response = outcome.Result!;
        if (response.IsSuccessStatusCode || state.IsDownload)
        {
            // A garbled success goes on: Refit fails to read it and the error mapping says so. Downloads stream their
            // error bodies to the caller's mapping.
            return response;
        }

        using (response)
        {
            // The last attempt already read and classified this answer.
            var (code, message) = state.LastError;
            throw new MlflowException(response.StatusCode, code, message, request.Method.Method, MlflowResilience.PathOf(request), null, state.FinalKind(state.AttemptKind ?? FailureClassifier.Classify(response.StatusCode, code)));
        }
    }

    private string Describe(Exception exception) => exception switch
    {
        BrokenCircuitException broken => "The circuit breaker is open after repeated failures of the tracking server, so the request was not sent"
            + (broken.RetryAfter is { } after ? string.Create(CultureInfo.InvariantCulture, $"; it closes in about {Math.Ceiling(after.TotalSeconds)} s.") : "."),
        MlflowException raisedHere => raisedHere.Message, // a failure before sending, such as the token provider's
        TimeoutRejectedException => string.Create(CultureInfo.InvariantCulture, $"The request timed out after {_requestTimeout.TotalSeconds:0.###} s (MLFLOW_HTTP_REQUEST_TIMEOUT, per attempt)."),
        _ => Rest.ErrorMapping.Describe(exception),
    };

    private static Exception Cause(Exception exception)
        => exception is TimeoutRejectedException timeout ? new TimeoutException(timeout.Message, timeout) : exception;

    private async Task<HttpResponseMessage> SendOnceAsync(AttemptState state, CancellationToken attemptToken)
    {
        HttpResponseMessage? response = null;
        state.Attempts++;
        try
        {
            response = await base.SendAsync(state.Request, attemptToken).ConfigureAwait(false);
            state.AttemptKind = null;
            if (!state.IsDownload)
            {
#if NET9_0_OR_GREATER
                await response.Content.LoadIntoBufferAsync(attemptToken).ConfigureAwait(false);
#else
                await response.Content.ReadAsByteArrayAsync(attemptToken).ConfigureAwait(false);
#endif
                if (response.IsSuccessStatusCode)
                {
                    // A garbled success body fails this attempt; if it is the last one, the answer goes on so the caller
                    // sees the status and an unreadable body.
                    if (state.ExpectsJson && !await LooksLikeJsonObjectAsync(response.Content, attemptToken).ConfigureAwait(false))
                    {
                        state.Record(MlflowFailureKind.OutcomeUnknown);
                    }
                }
                else
                {
                    state.LastError = Rest.ErrorMapping.ParseAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(attemptToken).ConfigureAwait(false), state.Request.RequestUri);
                    state.Record(FailureClassifier.Classify(response.StatusCode, state.LastError.Code));
                }
            }
            else if (!response.IsSuccessStatusCode)
            {
                state.Record(FailureClassifier.Classify(response.StatusCode));
            }
        }
        catch (Exception ex)
        {
            response?.Dispose();
            state.Record(FailureClassifier.Classify(ex, state.CallerToken));
            throw;
        }

        return response;
    }

    /// <summary>
    /// A cheap check of a buffered success body of a JSON endpoint: empty (MLflow reads it as <c>{}</c>) or starting
    /// with <c>{</c> and ending with <c>}</c>. It catches garbage and truncated answers without parsing twice.
    /// </summary>
    private static async Task<bool> LooksLikeJsonObjectAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var span = body.AsSpan();
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }

        span = span.Trim(" \t\r\n"u8);
        return span.IsEmpty || (span[0] == (byte)'{' && span[^1] == (byte)'}');
    }

    /// <summary>What the attempts of one request said, for the retry predicates and the final verdict.</summary>
    internal sealed class AttemptState(ResilienceHandler handler, HttpRequestMessage request, EndpointKind kind, bool isDownload, bool expectsJson, CancellationToken callerToken)
    {
        public ResilienceHandler Handler { get; } = handler;

        public HttpRequestMessage Request { get; } = request;

        public EndpointKind Kind { get; } = kind;

        public bool IsDownload { get; } = isDownload;

        public bool ExpectsJson { get; } = expectsJson;

        public CancellationToken CallerToken { get; } = callerToken;

        /// <summary>The kind of the latest attempt's failure; <see langword="null"/> when it succeeded.</summary>
        public MlflowFailureKind? AttemptKind { get; set; }

        /// <summary>The MLflow error code and message of the latest error answer (read once, when the attempt got it).</summary>
        public (string? Code, string? Message) LastError { get; set; }

        /// <summary>The attempts sent so far (one at a time: the pipeline awaits each before the next).</summary>
        public int Attempts { get; set; }

        /// <summary>An earlier attempt of this write may have been applied.</summary>
        public bool MayHaveApplied { get; private set; }

        public void Record(MlflowFailureKind kind)
        {
            AttemptKind = kind;
            MayHaveApplied |= kind == MlflowFailureKind.OutcomeUnknown && Kind != EndpointKind.Read;
        }

        /// <summary>The kind the caller sees: a write one of whose attempts may have been applied stays unknown, whatever came after, unless the server rejected it.</summary>
        public MlflowFailureKind FinalKind(MlflowFailureKind last)
        {
            var kind = FailureClassifier.ForEndpoint(last, Kind);
            return MayHaveApplied && kind is MlflowFailureKind.NotApplied or MlflowFailureKind.Unreachable ? MlflowFailureKind.OutcomeUnknown : kind;
        }
    }
}
