using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>Source-generated JSON metadata for the model registry and artifact proxy wire format (same conventions as <see cref="MlflowJsonContext"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(EmptyResponse))]
internal sealed partial class MlflowRegistryJsonContext : JsonSerializerContext
{
}
