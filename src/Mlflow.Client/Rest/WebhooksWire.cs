using System.Text;

namespace Mlflow.Client.Rest;

// Wire shapes of MLflow's webhook endpoints (/api/2.0/mlflow/webhooks, webhooks.proto of MLflow 3.11.1). Enums travel
// as their upper-case proto names; the secret is write-only (no answer carries it). Names map to snake_case through
// MlflowWebhookJsonContext; unset request fields are omitted.

internal sealed record WebhookEventWire(string? Entity, string? Action);

internal sealed record WebhookWire(
    string? WebhookId,
    string? Name,
    string? Description,
    string? Url,
    IReadOnlyList<WebhookEventWire>? Events,
    string? Status,
    long? CreationTimestamp,
    long? LastUpdatedTimestamp)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("WebhookId = ").Append(WebhookId).Append(", Name = ").Append(Name).Append(", Url = ").Append(WebhookUrlText.Redact(Url)).Append(", Status = ").Append(Status);
        return true;
    }
}

/// <summary>POST webhooks. <see cref="ToString"/> never shows the secret.</summary>
internal sealed record CreateWebhookRequest(string Name, string? Description, string Url, IReadOnlyList<WebhookEventWire> Events, string? Secret, string? Status)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name).Append(", Url = ").Append(WebhookUrlText.Redact(Url)).Append(", Secret = ").Append(Secret is null ? "" : "***");
        return true;
    }
}

/// <summary>PATCH webhooks/{id}: the id travels in the path only, as MLflow's own client sends it. <see cref="ToString"/> never shows the secret.</summary>
internal sealed record UpdateWebhookRequest(string? Name, string? Description, string? Url, IReadOnlyList<WebhookEventWire>? Events, string? Secret, string? Status)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name).Append(", Url = ").Append(WebhookUrlText.Redact(Url)).Append(", Secret = ").Append(Secret is null ? "" : "***");
        return true;
    }
}

internal sealed record WebhookResponse(WebhookWire? Webhook);
internal sealed record ListWebhooksResponse(IReadOnlyList<WebhookWire>? Webhooks, string? NextPageToken);
internal sealed record TestWebhookRequest(WebhookEventWire? Event);
internal sealed record WebhookTestResultWire(bool? Success, int? ResponseStatus, string? ResponseBody, string? ErrorMessage);
internal sealed record TestWebhookResponse(WebhookTestResultWire? Result);

/// <summary>Between the public webhook types and their wire shapes.</summary>
internal static class WebhookWireMapping
{
    public static WebhookEventWire ToWire(WebhookEvent e)
        => new(WebhookNames.Entity(e.Entity).ToUpperInvariant(), WebhookNames.Action(e.Action).ToUpperInvariant());

    public static WebhookEvent FromWire(WebhookEventWire e)
    {
        _ = WebhookNames.TryParseEntity(e.Entity, out var entity);
        _ = WebhookNames.TryParseAction(e.Action, out var action);
        return WebhookEvent.FromServer(entity, action);
    }

    public static Webhook FromWire(WebhookWire w) => new()
    {
        WebhookId = w.WebhookId ?? "",
        Name = w.Name ?? "",
        Description = string.IsNullOrEmpty(w.Description) ? null : w.Description,
        Url = w.Url ?? "",
        Events = (w.Events ?? []).Select(FromWire).ToList(),
        Status = WebhookNames.ParseStatus(w.Status),
        CreationTimestamp = w.CreationTimestamp,
        LastUpdatedTimestamp = w.LastUpdatedTimestamp,
    };

    public static WebhookTestResult FromWire(WebhookTestResultWire r)
        => new(r.Success ?? false, r.ResponseStatus is null or 0 ? null : r.ResponseStatus, string.IsNullOrEmpty(r.ResponseBody) ? null : r.ResponseBody, string.IsNullOrEmpty(r.ErrorMessage) ? null : r.ErrorMessage);
}
