using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>Source-generated JSON metadata for the webhook endpoints (same conventions as <see cref="MlflowJsonContext"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(UpdateWebhookRequest))]
[JsonSerializable(typeof(WebhookResponse))]
[JsonSerializable(typeof(ListWebhooksResponse))]
[JsonSerializable(typeof(TestWebhookRequest))]
[JsonSerializable(typeof(TestWebhookResponse))]
internal sealed partial class MlflowWebhookJsonContext : JsonSerializerContext
{
}
