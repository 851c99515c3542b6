using Refit;

namespace Mlflow.Client.Rest;

/// <summary>
/// Refit description of MLflow's webhook endpoints (MLflow 3.3 and later, SQL stores). Paths as MLflow's own client
/// uses them; the webhook id goes into the path escaped by Refit.
/// </summary>
internal interface IWebhooksApi
{
    [Post("/api/2.0/mlflow/webhooks")]
    Task<WebhookResponse> CreateWebhookAsync([Body] CreateWebhookRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/webhooks")]
    Task<ListWebhooksResponse> ListWebhooksAsync(
        [AliasAs("max_results")] int? maxResults,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/webhooks/{webhookId}")]
    Task<WebhookResponse> GetWebhookAsync(string webhookId, CancellationToken cancellationToken);

    [Patch("/api/2.0/mlflow/webhooks/{webhookId}")]
    Task<WebhookResponse> UpdateWebhookAsync(string webhookId, [Body] UpdateWebhookRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/webhooks/{webhookId}")]
    Task DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/webhooks/{webhookId}/test")]
    Task<TestWebhookResponse> TestWebhookAsync(string webhookId, [Body] TestWebhookRequest request, CancellationToken cancellationToken);
}
