using System.Globalization;

namespace Mlflow.Client.Tracing;

/// <summary>
/// protobuf's JSON forms of <c>google.protobuf.Timestamp</c> (<c>"2026-12-05T19:34:40.442Z"</c>) and
/// <c>google.protobuf.Duration</c> (<c>"0.120s"</c>), which MLflow's v3 trace and assessment messages carry, from and
/// to milliseconds. Written as protobuf writes them: 0, 3, 6 or 9 fractional digits, UTC with <c>Z</c>.
/// </summary>
internal static class ProtoJsonTime
{
    /// <summary>Milliseconds since the Unix epoch as a protobuf Timestamp text.</summary>
    public static string TimestampFromMilliseconds(long milliseconds)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime;
        var fraction = milliseconds % 1000;
        if (fraction < 0)
        {
            fraction += 1000;
        }

        var seconds = time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return fraction == 0 ? seconds + "Z" : seconds + "." + fraction.ToString("000", CultureInfo.InvariantCulture) + "Z";
    }

    /// <summary>A protobuf Timestamp text (any fractional precision, <c>Z</c> or an offset) as milliseconds since the Unix epoch.</summary>
    /// <exception cref="FormatException">Not an RFC 3339 time.</exception>
    public static long MillisecondsFromTimestamp(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || text.Length < 20 || text[10] is not ('T' or 't'))
        {
            throw new FormatException($"'{text}' is not a protobuf Timestamp (RFC 3339, for example 2026-01-31T12:00:00.123Z).");
        }

        // DateTimeOffset keeps 100 ns ticks; MLflow keeps milliseconds (protobuf's ToMilliseconds truncates).
        return parsed.ToUnixTimeMilliseconds();
    }

    /// <summary>Milliseconds as a protobuf Duration text: <c>0.120s</c>, <c>2s</c>, <c>-1.500s</c>.</summary>
    public static string DurationFromMilliseconds(long milliseconds)
    {
        var sign = milliseconds < 0 ? "-" : "";
        var abs = Math.Abs(milliseconds);
        var seconds = abs / 1000;
        var fraction = abs % 1000;
        return fraction == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{sign}{seconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{sign}{seconds}.{fraction:000}s");
    }

    /// <summary>A protobuf Duration text (<c>1.5s</c>, <c>0.000001s</c>) as whole milliseconds, truncated as protobuf does.</summary>
    /// <exception cref="FormatException">Not a Duration text.</exception>
    public static long MillisecondsFromDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 2 || text[^1] != 's')
        {
            throw new FormatException($"'{text}' is not a protobuf Duration (for example 1.500s).");
        }

        var body = text.AsSpan(0, text.Length - 1);
        var negative = body.Length > 0 && body[0] == '-';
        if (negative)
        {
            body = body[1..];
        }

        var dot = body.IndexOf('.');
        var whole = dot < 0 ? body : body[..dot];
        var frac = dot < 0 ? ReadOnlySpan<char>.Empty : body[(dot + 1)..];
        if (!long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || frac.Length > 9 || (frac.Length > 0 && !long.TryParse(frac, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException($"'{text}' is not a protobuf Duration (for example 1.500s).");
        }

        var millis = 0L;
        for (var i = 0; i < 3; i++)
        {
            millis = (millis * 10) + (i < frac.Length ? frac[i] - '0' : 0);
        }

        var total = checked((seconds * 1000) + millis);
        return negative ? -total : total;
    }
}
