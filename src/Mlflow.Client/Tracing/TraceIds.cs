using System.Security.Cryptography;

namespace Mlflow.Client.Tracing;

/// <summary>
/// Ids of traces and spans as MLflow makes them: a trace id is <c>tr-</c> and the OpenTelemetry trace id in 32
/// lower-case hex digits, a span id the OpenTelemetry span id in 16; <c>traces.json</c> holds both as base64 of their bytes.
/// </summary>
public static class TraceIds
{
    private const string Prefix = "tr-";

    /// <summary>A new random trace id, <c>tr-</c> and 32 hex digits.</summary>
    /// <returns>The trace id.</returns>
    public static string NewTraceId() => Prefix + RandomHex(16);

    /// <summary>A new random span id, 16 hex digits (never all zeros, which OpenTelemetry reserves for "no id").</summary>
    /// <returns>The span id.</returns>
    public static string NewSpanId() => RandomHex(8);

    /// <summary>The MLflow trace id of an OpenTelemetry trace id (32 hex digits).</summary>
    /// <param name="otelTraceIdHex">The OpenTelemetry trace id, for example <c>Activity.TraceId.ToHexString()</c>.</param>
    /// <returns><c>tr-</c> and the id in lower case.</returns>
    /// <exception cref="ArgumentException">Not 32 hex digits.</exception>
    public static string FromOpenTelemetryTraceId(string otelTraceIdHex)
    {
        if (!IsHex(otelTraceIdHex, 32))
        {
            throw new ArgumentException($"An OpenTelemetry trace id is 32 hex digits, not '{otelTraceIdHex}'.", nameof(otelTraceIdHex));
        }

        return Prefix + otelTraceIdHex.ToLowerInvariant();
    }

    /// <summary>The 16 bytes of the OpenTelemetry trace id inside an MLflow trace id (<c>tr-</c> and 32 hex digits).</summary>
    /// <exception cref="ArgumentException">The trace id is not of that form (MLflow's <c>traces.json</c> needs the OpenTelemetry id).</exception>
    internal static byte[] OpenTelemetryTraceIdBytes(string traceId)
    {
        if (traceId is null || !traceId.StartsWith(Prefix, StringComparison.Ordinal) || !IsHex(traceId.AsSpan(Prefix.Length), 32))
        {
            throw new ArgumentException($"The trace id '{traceId}' is not 'tr-' and 32 hex digits, which MLflow's span data needs (use TraceIds.NewTraceId).", nameof(traceId));
        }

        return Convert.FromHexString(traceId.AsSpan(Prefix.Length));
    }

    /// <summary>The 8 bytes of a span id (16 hex digits).</summary>
    /// <exception cref="ArgumentException">Not 16 hex digits.</exception>
    internal static byte[] SpanIdBytes(string spanId, string paramName)
    {
        if (!IsHex(spanId, 16))
        {
            throw new ArgumentException($"A span id is 16 hex digits, not '{spanId}'.", paramName);
        }

        return Convert.FromHexString(spanId);
    }

    /// <summary>A span id from the base64 of its bytes (<c>traces.json</c>).</summary>
    internal static string SpanIdFromBase64(string base64) => HexFromBase64(base64, 8);

    /// <summary>An MLflow trace id from the base64 of the OpenTelemetry trace id's bytes.</summary>
    internal static string TraceIdFromBase64(string base64) => Prefix + HexFromBase64(base64, 16);

    internal static bool IsHex(ReadOnlySpan<char> text, int length)
    {
        if (text.Length != length)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string HexFromBase64(string base64, int bytes)
    {
        var raw = Convert.FromBase64String(base64);
        if (raw.Length != bytes)
        {
            throw new FormatException($"'{base64}' holds {raw.Length} bytes; an id of {bytes} was expected.");
        }

        return Convert.ToHexString(raw).ToLowerInvariant();
    }

    private static string RandomHex(int bytes)
    {
        Span<byte> buffer = stackalloc byte[16];
        var slice = buffer[..bytes];
        do
        {
            RandomNumberGenerator.Fill(slice);
        }
        while (slice.IndexOfAnyExcept((byte)0) < 0);

        return Convert.ToHexString(slice).ToLowerInvariant();
    }
}
