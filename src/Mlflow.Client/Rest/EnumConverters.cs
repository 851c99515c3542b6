using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>Enum names as MLflow's protobuf JSON writes them: <c>FINISHED</c>, <c>ACTIVE_ONLY</c>.</summary>
internal sealed class UpperSnakeEnumConverter<TEnum> : JsonStringEnumConverter<TEnum>
    where TEnum : struct, Enum
{
    public UpperSnakeEnumConverter() : base(JsonNamingPolicy.SnakeCaseUpper, allowIntegerValues: true) { }
}

/// <summary>Enum names in lower snake case: <c>active</c>, <c>deleted</c>.</summary>
internal sealed class LowerSnakeEnumConverter<TEnum> : JsonStringEnumConverter<TEnum>
    where TEnum : struct, Enum
{
    public LowerSnakeEnumConverter() : base(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: true) { }
}
