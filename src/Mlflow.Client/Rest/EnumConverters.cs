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

/// <summary>
/// <see cref="LoggedModelStatus"/> as MLflow writes it (<c>LOGGED_MODEL_READY</c>), also read from its number; the
/// JSON names carry a <c>LOGGED_MODEL_</c> prefix the C# names leave out.
/// </summary>
internal sealed class LoggedModelStatusConverter : JsonConverter<LoggedModelStatus>
{
    public override LoggedModelStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number))
        {
            return Enum.IsDefined(typeof(LoggedModelStatus), number) ? (LoggedModelStatus)number : LoggedModelStatus.Unspecified;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A logged model status is a string or a number, not {reader.TokenType}.");
        }

        // An unknown name (a status added by a later server) reads as Unspecified rather than failing the whole answer.
        return reader.GetString() switch
        {
            "LOGGED_MODEL_PENDING" => LoggedModelStatus.Pending,
            "LOGGED_MODEL_READY" => LoggedModelStatus.Ready,
            "LOGGED_MODEL_UPLOAD_FAILED" => LoggedModelStatus.UploadFailed,
            _ => LoggedModelStatus.Unspecified,
        };
    }

    public override void Write(Utf8JsonWriter writer, LoggedModelStatus value, JsonSerializerOptions options)
        => writer.WriteStringValue(Name(value));

    internal static string Name(LoggedModelStatus value) => value switch
    {
        LoggedModelStatus.Pending => "LOGGED_MODEL_PENDING",
        LoggedModelStatus.Ready => "LOGGED_MODEL_READY",
        LoggedModelStatus.UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
        _ => "LOGGED_MODEL_STATUS_UNSPECIFIED",
    };
}
