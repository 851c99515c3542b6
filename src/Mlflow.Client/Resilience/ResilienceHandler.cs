using System.Globalization;
using System.Runtime.ExceptionServices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Mlflow.Client.Resilience;

/// <summary>
/// Runs every request through the client's resilience pipeline. Each attempt reads the whole answer (except file
/// downloads), so a connection lost mid-body is a failed attempt like any other. Requests that failed in a way that may
/// hide an applied write are marked (<see cref="MlflowResilience.OutcomeUnknownKey"/>) for <see cref="Rest.ErrorMapping"/>.
/// </summary>
internal sealed class ResilienceHandler : DelegatingHandler
{
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly TimeSpan _requestTimeout;

    public ResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline, TimeSpan requestTimeout)
    {
        _pipeline = pipeline;
        _requestTimeout = requestTimeout;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is IStreamedRequestContent streamed)
        {
            // A caller's stream is never buffered whole; one that cannot be rewound gets exactly one attempt.
            if (!streamed.CanResend)
            {
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

        var state = new AttemptState(
            this,
            request,
            EndpointClassifier.Classify(request.Method, request.RequestUri),
            EndpointClassifier.IsDownload(request.Method, request.RequestUri),
            EndpointClassifier.ExpectsJson(request.RequestUri),
            cancellationToken);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(MlflowResilience.RequestKey, request);
        context.Properties.Set(MlflowResilience.KindKey, state.Kind);
        context.Properties.Set(MlflowResilience.CallerTokenKey, cancellationToken);
        Outcome<HttpResponseMessage> outcome;
        try
        {
            outcome = await _pipeline.ExecuteOutcomeAsync(
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

        switch (outcome.Exception)
        {
            case null:
                return outcome.Result!;
            case BrokenCircuitException broken:
                throw new MlflowException(
                    null,
                    null,
                    "The circuit breaker is open after repeated failures of the tracking server, so the request was not sent"
                        + (broken.RetryAfter is { } after ? string.Create(CultureInfo.InvariantCulture, $"; it closes in about {Math.Ceiling(after.TotalSeconds)} s.") : "."),
                    request.Method.Method,
                    MlflowResilience.PathOf(request),
                    broken,
                    MlflowResilience.IsOutcomeUnknown(request));
            case TimeoutRejectedException timeout:
                throw new MlflowException(
                    null,
                    null,
                    string.Create(CultureInfo.InvariantCulture, $"The request timed out after {_requestTimeout.TotalSeconds:0.###} s (MLFLOW_HTTP_REQUEST_TIMEOUT, per attempt)."),
                    request.Method.Method,
                    MlflowResilience.PathOf(request),
                    new TimeoutException(timeout.Message, timeout),
                    MlflowResilience.IsOutcomeUnknown(request));
            case var other:
                // Refit passes a transport failure of a call without a result on as it is, without the request: the
                // exception itself says what the request was and whether it may have been applied.
                other.Data[MlflowResilience.OutcomeUnknownDataKey] = MlflowResilience.IsOutcomeUnknown(request);
                other.Data[MlflowResilience.MethodDataKey] = request.Method.Method;
                other.Data[MlflowResilience.PathDataKey] = MlflowResilience.PathOf(request);
                ExceptionDispatchInfo.Capture(other).Throw();
                throw other;
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(AttemptState state, CancellationToken attemptToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            response = await base.SendAsync(state.Request, attemptToken).ConfigureAwait(false);
            if (!state.IsDownload)
            {
#if NET9_0_OR_GREATER
                await response.Content.LoadIntoBufferAsync(attemptToken).ConfigureAwait(false);
#else
                await response.Content.ReadAsByteArrayAsync(attemptToken).ConfigureAwait(false);
#endif
                // A garbled success body fails this attempt; if it is the last one, the answer goes on so the caller
                // sees the status and an unreadable body.
                var garbled = state.ExpectsJson && response.IsSuccessStatusCode && !await LooksLikeJsonObjectAsync(response.Content, attemptToken).ConfigureAwait(false);
                state.Request.Options.Set(MlflowResilience.GarbledAnswerKey, garbled);
                if (garbled)
                {
                    Mark(state, FailureKind.Ambiguous);
                }
            }
        }
        catch (Exception ex)
        {
            response?.Dispose();
            Mark(state, FailureClassifier.Classify(ex, state.CallerToken));
            throw;
        }

        Mark(state, FailureClassifier.Classify(response.StatusCode));
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

    /// <summary>Marks the request when a write may have been applied.</summary>
    private static void Mark(AttemptState state, FailureKind failure)
    {
        if (failure == FailureKind.Ambiguous && state.Kind != EndpointKind.Read)
        {
            state.Request.Options.Set(MlflowResilience.OutcomeUnknownKey, true);
        }
    }

    private sealed record AttemptState(ResilienceHandler Handler, HttpRequestMessage Request, EndpointKind Kind, bool IsDownload, bool ExpectsJson, CancellationToken CallerToken);
}
