using System.Runtime.CompilerServices;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;
using Refit;

namespace Mlflow.Client;

// MLflow's webhooks (/api/2.0/mlflow/webhooks): MLflow 3.3 and later, SQL stores only. The server POSTs the events a
// webhook listens to (model registry and prompt changes) to its URL, signed with its secret when it has one. The
// secret is write-only: no answer carries it, and it never reaches a message, a log or ToString of this SDK.
public partial class MlflowClient
{
    private const string WebhooksAdvice = "Webhooks arrived in MLflow 3.3 and need a SQL store (sqlite, PostgreSQL, MySQL).";

    /// <summary>Creates a webhook (<c>POST webhooks</c>; MLflow 3.3 and later with a SQL store).</summary>
    /// <param name="name">The webhook's name.</param>
    /// <param name="url">Where the server sends the events: an absolute http(s) URL. The server allows https only unless started
    /// with <c>MLFLOW_WEBHOOK_ALLOWED_SCHEMES</c>, and refuses addresses that are not public unless started with
    /// <c>MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true</c>.</param>
    /// <param name="events">The events it listens to (at least one; a repeated one is sent once).</param>
    /// <param name="description">A description, or <see langword="null"/>.</param>
    /// <param name="secret">A secret the server signs each delivery with (HMAC-SHA256 in <c>X-MLflow-Signature</c>,
    /// <c>v1,&lt;base64&gt;</c> over <c>&lt;delivery id&gt;.&lt;timestamp&gt;.&lt;body&gt;</c>); never sent back, never shown by this SDK.</param>
    /// <param name="status">The initial status; the server makes it <see cref="WebhookStatus.Active"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new webhook, with its id.</returns>
    /// <exception cref="ArgumentException">A name, URL or event is missing, or the URL is not an absolute http(s) URL; nothing was sent.</exception>
    /// <exception cref="MlflowException">The server refused (the URL's scheme or address, for example), or it has no webhooks.</exception>
    /// <exception cref="NotSupportedException">This client reads a local store (<see cref="IsLocal"/>): webhooks live on a server.</exception>
    public virtual async Task<Webhook> CreateWebhookAsync(string name, string url, IEnumerable<WebhookEvent> events, string? description = null, string? secret = null, WebhookStatus? status = null, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        CheckWebhookUrl(url, nameof(url));
        ArgumentNullException.ThrowIfNull(events);
        var wireEvents = WireEvents(events, nameof(events));
        if (wireEvents.Count == 0)
        {
            throw new ArgumentException("A webhook listens to at least one event.", nameof(events));
        }

        RefuseLoneSurrogates(name, description, "webhook");
        var request = new CreateWebhookRequest(name, NullIfEmpty(description), url, wireEvents, NullIfEmpty(secret), WebhookNames.Status(status));
        var response = await WebhookCallAsync(() => _webhooks.CreateWebhookAsync(request, cancellationToken), request.Secret, cancellationToken).ConfigureAwait(false);
        return WebhookWireMapping.FromWire(response.Webhook ?? throw new MlflowException("webhooks create answered without a webhook."));
    }

    /// <summary>Gets a webhook (<c>GET webhooks/{webhook_id}</c>).</summary>
    /// <param name="webhookId">The webhook id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The webhook (without its secret, which the server never sends).</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> (HTTP 404) when there is no such webhook.</exception>
    public virtual async Task<Webhook> GetWebhookAsync(string webhookId, CancellationToken cancellationToken = default)
    {
        RequireWebhookId(webhookId);
        var response = await WebhookCallAsync(() => _webhooks.GetWebhookAsync(webhookId, cancellationToken), null, cancellationToken).ConfigureAwait(false);
        return WebhookWireMapping.FromWire(response.Webhook ?? throw new MlflowException("webhooks get answered without a webhook."));
    }

    /// <summary>Lists webhooks, one page, newest first (<c>GET webhooks</c>).</summary>
    /// <param name="maxResults">Page size (the server allows 1 to 1000, and takes 100 when <see langword="null"/>).</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of webhooks.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxResults"/> is below 1 (MLflow would silently read 0 as 100).</exception>
    public virtual async Task<Page<Webhook>> ListWebhooksAsync(int? maxResults = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        if (maxResults < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxResults), maxResults, "A webhook page holds at least one webhook.");
        }

        var token = NullIfEmpty(pageToken);
        var response = await WebhookCallAsync(() => _webhooks.ListWebhooksAsync(maxResults, token, cancellationToken), null, cancellationToken).ConfigureAwait(false);
        return new Page<Webhook>((response.Webhooks ?? []).Select(WebhookWireMapping.FromWire).ToList(), NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Lists every webhook, following page tokens to the end.</summary>
    /// <param name="pageSize">Webhooks asked per page (1 to 1000).</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every webhook, newest first.</returns>
    public virtual async IAsyncEnumerable<Webhook> ListAllWebhooksAsync(int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var page = await ListWebhooksAsync(pageSize, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = NextToken(page.NextPageToken, seen);
        }
        while (token is not null);
    }

    /// <summary>Changes a webhook (<c>PATCH webhooks/{webhook_id}</c>): only what <paramref name="update"/> sets.</summary>
    /// <param name="webhookId">The webhook id.</param>
    /// <param name="update">The changes; properties left <see langword="null"/> (or empty) keep their value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The webhook as it is now.</returns>
    /// <remarks>
    /// MLflow 3.11.1 reads a PATCH without a status as ACTIVE (the proto's first value), so any change re-enabled a
    /// disabled webhook, with MLflow's own Python client too. When <see cref="WebhookUpdate.Status"/> is
    /// <see langword="null"/>, the webhook is therefore read first and its current status sent along: one more request,
    /// and a status changed by someone else between the two is set back.
    /// </remarks>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such webhook; the server's refusal of a URL otherwise.</exception>
    public virtual async Task<Webhook> UpdateWebhookAsync(string webhookId, WebhookUpdate update, CancellationToken cancellationToken = default)
    {
        RequireWebhookId(webhookId);
        ArgumentNullException.ThrowIfNull(update);
        if (!string.IsNullOrEmpty(update.Url))
        {
            CheckWebhookUrl(update.Url, nameof(update));
        }

        RefuseLoneSurrogates(update.Name, update.Description, "webhook");
        var events = update.Events is null ? null : WireEvents(update.Events, nameof(update));
        var status = update.Status;
        if (status is null)
        {
            var current = (await GetWebhookAsync(webhookId, cancellationToken).ConfigureAwait(false)).Status;
            status = current == WebhookStatus.Unspecified ? null : current;
        }

        var request = new UpdateWebhookRequest(
            NullIfEmpty(update.Name),
            NullIfEmpty(update.Description),
            NullIfEmpty(update.Url),
            events is { Count: > 0 } ? events : null,
            NullIfEmpty(update.Secret),
            WebhookNames.Status(status));
        var response = await WebhookCallAsync(() => _webhooks.UpdateWebhookAsync(webhookId, request, cancellationToken), request.Secret, cancellationToken).ConfigureAwait(false);
        return WebhookWireMapping.FromWire(response.Webhook ?? throw new MlflowException("webhooks update answered without a webhook."));
    }

    /// <summary>Deletes a webhook (<c>DELETE webhooks/{webhook_id}</c>); reading it then answers 404.</summary>
    /// <param name="webhookId">The webhook id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    /// <remarks>A second delete answers 404, so after a lost answer the webhook is read back rather than the request sent again.</remarks>
    public virtual Task DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken = default)
    {
        RequireWebhookId(webhookId);
        return LostAnswerRecovery.SendAsync(
            () => WebhookCallAsync(async () =>
            {
                await _webhooks.DeleteWebhookAsync(webhookId, cancellationToken).ConfigureAwait(false);
                return true;
            }, null, cancellationToken),
            () => LostAnswerRecovery.IsGoneAsync(() => GetWebhookAsync(webhookId, cancellationToken)),
            "webhooks/delete",
            _logger);
    }

    /// <summary>
    /// Has the server send a test delivery of an example payload to the webhook's URL now (<c>POST webhooks/{webhook_id}/test</c>),
    /// whatever its status, and says what the URL answered.
    /// </summary>
    /// <param name="webhookId">The webhook id.</param>
    /// <param name="event">The event whose example payload to send; when <see langword="null"/>, the first of the webhook's
    /// events as the server lists them (MLflow 3.11.1's sqlite store sorts them, whatever order they were given in).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether the URL answered below 400, its status and body, or why it could not be reached.</returns>
    /// <exception cref="MlflowException">The server could not run the test (no such webhook, or it failed itself).</exception>
    public virtual async Task<WebhookTestResult> TestWebhookAsync(string webhookId, WebhookEvent? @event = null, CancellationToken cancellationToken = default)
    {
        RequireWebhookId(webhookId);
        var request = new TestWebhookRequest(@event is null ? null : WebhookWireMapping.ToWire(@event));
        var response = await WebhookCallAsync(() => _webhooks.TestWebhookAsync(webhookId, request, cancellationToken), null, cancellationToken).ConfigureAwait(false);
        return WebhookWireMapping.FromWire(response.Result ?? throw new MlflowException("webhooks test answered without a result."));
    }

    private static void RequireWebhookId(string webhookId)
    {
        Require(webhookId, nameof(webhookId));
        if (webhookId is "." or ".." || webhookId.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{webhookId}' is not a webhook id: it would change the request's path.", nameof(webhookId));
        }
    }

    private static void CheckWebhookUrl(string? url, string paramName)
    {
        Require(url, paramName);
        // "/hook" is an absolute file: URI on Unix; MLflow delivers with requests, which speaks http(s) only.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("A webhook URL is an absolute http(s) URL, for example https://hooks.example.com/mlflow.", paramName);
        }
    }

    /// <summary>The events on the wire, in order, each once; a null entry is refused.</summary>
    private static List<WebhookEventWire> WireEvents(IEnumerable<WebhookEvent> events, string paramName)
    {
        var list = new List<WebhookEvent>();
        foreach (var e in events)
        {
            if (e is null)
            {
                throw new ArgumentException("A webhook event is null.", paramName);
            }

            if (!list.Contains(e))
            {
                list.Add(e);
            }
        }

        return list.Select(WebhookWireMapping.ToWire).ToList();
    }

    /// <summary>
    /// <see cref="Mlflow3CallAsync{T}"/> for the webhook endpoints. A failure of a call that carried a secret is thrown
    /// without the secret in its message and without Refit's exception, which holds the request and its body; so is a
    /// cancellation.
    /// </summary>
    private async Task<T> WebhookCallAsync<T>(Func<Task<T>> call, string? secret, CancellationToken cancellationToken)
    {
        try
        {
            return await Mlflow3CallAsync(call, "Webhooks", WebhooksAdvice, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (secret is not null && (ex.Message.Contains(secret, StringComparison.Ordinal) || HoldsRequest(ex)))
        {
            throw new MlflowException(ex.StatusCode, ex.RawErrorCode, ex.ServerMessage?.Replace(secret, "***", StringComparison.Ordinal), ex.Method, ex.Path, null, ex.Kind);
        }
        catch (OperationCanceledException ex) when (secret is not null && HoldsRequest(ex))
        {
            // Cancelled by the caller: CallAsync keeps Refit's exception as the cause, and it holds the request body
            // with the secret. The cancellation is rethrown without it, with the caller's token.
            throw new OperationCanceledException(ex.Message, ex.CancellationToken);
        }
    }

    private static bool HoldsRequest(Exception ex)
    {
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is ApiException or ApiRequestException)
            {
                return true;
            }
        }

        return false;
    }
}
