using System.Diagnostics;
using System.Text;

namespace Mlflow.Client;

/// <summary>The kind of thing a webhook event is about (MLflow's <c>WebhookEntity</c>).</summary>
public enum WebhookEntity
{
    /// <summary>Not set, or an entity this SDK does not know (sent by a newer server).</summary>
    Unspecified = 0,
    /// <summary>A registered model (<c>registered_model</c>).</summary>
    RegisteredModel = 1,
    /// <summary>A model version (<c>model_version</c>).</summary>
    ModelVersion = 2,
    /// <summary>A tag of a model version (<c>model_version_tag</c>).</summary>
    ModelVersionTag = 3,
    /// <summary>An alias of a model version (<c>model_version_alias</c>).</summary>
    ModelVersionAlias = 4,
    /// <summary>A prompt (<c>prompt</c>).</summary>
    Prompt = 5,
    /// <summary>A prompt version (<c>prompt_version</c>).</summary>
    PromptVersion = 6,
    /// <summary>A tag of a prompt (<c>prompt_tag</c>).</summary>
    PromptTag = 7,
    /// <summary>A tag of a prompt version (<c>prompt_version_tag</c>).</summary>
    PromptVersionTag = 8,
    /// <summary>An alias of a prompt (<c>prompt_alias</c>).</summary>
    PromptAlias = 9,
    /// <summary>A budget policy of the AI gateway (<c>budget_policy</c>).</summary>
    BudgetPolicy = 10,
}

/// <summary>What happened to the entity of a webhook event (MLflow's <c>WebhookAction</c>).</summary>
public enum WebhookAction
{
    /// <summary>Not set, or an action this SDK does not know (sent by a newer server).</summary>
    Unspecified = 0,
    /// <summary>Created (<c>created</c>).</summary>
    Created = 1,
    /// <summary>Updated (<c>updated</c>; no entity takes it in MLflow 3.11.1).</summary>
    Updated = 2,
    /// <summary>Deleted (<c>deleted</c>).</summary>
    Deleted = 3,
    /// <summary>Set, for tags (<c>set</c>).</summary>
    Set = 4,
    /// <summary>A limit was exceeded, for budget policies (<c>exceeded</c>).</summary>
    Exceeded = 5,
}

/// <summary>Whether a webhook receives events.</summary>
public enum WebhookStatus
{
    /// <summary>Not set, or a status this SDK does not know.</summary>
    Unspecified = 0,
    /// <summary>Events are delivered (the server's default for a new webhook).</summary>
    Active = 1,
    /// <summary>No events are delivered; <see cref="MlflowClient.TestWebhookAsync"/> still sends its test.</summary>
    Disabled = 2,
}

/// <summary>
/// A webhook of the tracking server (MLflow 3.3 and later, SQL stores): where the server POSTs the events it
/// listens to. Its secret, if any, is write-only: the server never sends it back. <see cref="ToString"/> shows the
/// URL's scheme and host only: a webhook URL's path or query often holds a token.
/// </summary>
[DebuggerDisplay("Webhook {WebhookId} {Name} {Status}")]
public sealed record Webhook
{
    /// <summary>The webhook id (a UUID on MLflow's own stores).</summary>
    public string WebhookId { get; init => field = value ?? ""; } = "";
    /// <summary>The webhook's name.</summary>
    public string Name { get; init => field = value ?? ""; } = "";
    /// <summary>Its description; <see langword="null"/> when none.</summary>
    public string? Description { get; init; }
    /// <summary>Where events are sent.</summary>
    public string Url { get; init => field = value ?? ""; } = "";
    /// <summary>The events it listens to, in the server's order (MLflow 3.11.1's sqlite store sorts them by name).</summary>
    public IReadOnlyList<WebhookEvent> Events { get; init => field = value ?? []; } = [];
    /// <summary>Whether events are delivered.</summary>
    public WebhookStatus Status { get; init; }
    /// <summary>Creation time in milliseconds since the Unix epoch.</summary>
    public long? CreationTimestamp { get; init; }
    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdatedTimestamp { get; init; }

    /// <summary>Writes the members for <see cref="ToString"/>, the URL as scheme and host only (its path or query often holds a token).</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("WebhookId = ").Append(WebhookId)
            .Append(", Name = ").Append(Name)
            .Append(", Description = ").Append(Description)
            .Append(", Url = ").Append(WebhookUrlText.Redact(Url))
            .Append(", Events = [").Append(string.Join(", ", Events)).Append(']')
            .Append(", Status = ").Append(Status)
            .Append(", CreationTimestamp = ").Append(CreationTimestamp)
            .Append(", LastUpdatedTimestamp = ").Append(LastUpdatedTimestamp);
        return true;
    }
}

/// <summary>
/// The changes of <see cref="MlflowClient.UpdateWebhookAsync"/>: every property left <see langword="null"/> keeps
/// its value (for the status, the client reads it and sends it again: see there). MLflow treats an empty text as
/// "unchanged" too, so a description cannot be cleared, only replaced, and a secret cannot be removed.
/// <see cref="ToString"/> never shows the secret, nor the URL's path or query.
/// </summary>
public sealed record WebhookUpdate
{
    /// <summary>A new name.</summary>
    public string? Name { get; init; }
    /// <summary>A new description.</summary>
    public string? Description { get; init; }
    /// <summary>A new URL (http or https, as the server allows).</summary>
    public string? Url { get; init; }
    /// <summary>The new list of events, replacing the old one; <see langword="null"/> or empty keeps the old one.</summary>
    public IReadOnlyList<WebhookEvent>? Events { get; init; }
    /// <summary>A new secret for the HMAC signature of deliveries (<c>X-MLflow-Signature</c>). Never shown by <see cref="ToString"/>.</summary>
    public string? Secret { get; init; }
    /// <summary>A new status.</summary>
    public WebhookStatus? Status { get; init; }

    /// <summary>Writes the members for <see cref="ToString"/>, the secret as <c>***</c>.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name)
            .Append(", Description = ").Append(Description)
            .Append(", Url = ").Append(WebhookUrlText.Redact(Url))
            .Append(", Events = ").Append(Events is null ? "" : "[" + string.Join(", ", Events) + "]")
            .Append(", Secret = ").Append(Secret is null ? "" : "***")
            .Append(", Status = ").Append(Status);
        return true;
    }
}

/// <summary>What the server got back when it sent a test event to a webhook's URL (<see cref="MlflowClient.TestWebhookAsync"/>).</summary>
/// <param name="Success">Whether the URL answered with a status below 400.</param>
/// <param name="ResponseStatus">The HTTP status the URL answered; <see langword="null"/> when it could not be reached.</param>
/// <param name="ResponseBody">The body the URL answered, as text.</param>
/// <param name="ErrorMessage">Why the delivery failed when it got no answer (refused connection, refused URL, timeout).</param>
public sealed record WebhookTestResult(bool Success, int? ResponseStatus, string? ResponseBody, string? ErrorMessage);
