// One line of a metric file as MLflow's FileStore writes it: "timestamp value", "timestamp value step", or (MLflow 3)
// "timestamp value step dataset_name dataset_digest"; parsed from the file's bytes without building a string.
using System.Globalization;
using System.Text;

namespace Mlflow.Client.FileStore;

/// <summary>What a line of a metric file holds.</summary>
internal enum MetricLineKind
{
    /// <summary>Nothing but whitespace: skipped without a report.</summary>
    Blank,

    /// <summary>A point.</summary>
    Point,

    /// <summary>Not a point (torn, hand-edited): skipped and reported.</summary>
    Malformed,
}

/// <summary>Receives the points of a metric file as they are parsed, with the byte offset just after each one's line.</summary>
internal interface IMetricLineSink
{
    void Add(in MetricLine point, long lineEnd);
}

/// <summary>A point of a metric file, without its key (the file's name).</summary>
internal readonly record struct MetricLine(long Timestamp, double Value, long Step, string? DatasetName = null, string? DatasetDigest = null)
{
    /// <summary>The point as a <see cref="Metric"/> of <paramref name="key"/>.</summary>
    public Metric ToMetric(string key) => DatasetName is null
        ? new Metric(key, Value, Timestamp, Step)
        : new Metric(key, Value, Timestamp, Step) { DatasetName = DatasetName, DatasetDigest = DatasetDigest };

    /// <summary>
    /// Reads a line of UTF-8 bytes (without its line end). Printable ASCII, what the SDK and MLflow write, is parsed as it
    /// is; any other line is decoded and trimmed as text first, with the same rules as <see cref="TryParse"/>.
    /// </summary>
    public static MetricLineKind Read(ReadOnlySpan<byte> line, out MetricLine point)
    {
        point = default;
        if (line.IndexOfAnyExceptInRange((byte)' ', (byte)'~') >= 0)
        {
            var chars = line.Length <= 256 ? stackalloc char[256] : new char[line.Length]; // never more chars than bytes
            var text = chars[..Encoding.UTF8.GetChars(line, chars)];
            return text.IsWhiteSpace() ? MetricLineKind.Blank : TryParse(text, out point) ? MetricLineKind.Point : MetricLineKind.Malformed;
        }

        line = line.Trim((byte)' ');
        return line.IsEmpty ? MetricLineKind.Blank : TryParseFields(line, out point) ? MetricLineKind.Point : MetricLineKind.Malformed;
    }

    /// <summary>Parses a line of text: the fields split on single spaces, after trimming the line.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out MetricLine point)
    {
        line = line.Trim();
        var utf8 = line.Length <= 128 ? stackalloc byte[384] : new byte[Encoding.UTF8.GetMaxByteCount(line.Length)];
        return TryParseFields(utf8[..Encoding.UTF8.GetBytes(line, utf8)], out point);
    }

    /// <summary>The fields of a trimmed line of UTF-8: 2, 3 or 5 of them, split on single spaces.</summary>
    private static bool TryParseFields(ReadOnlySpan<byte> line, out MetricLine point)
    {
        point = default;
        Span<Range> parts = stackalloc Range[6];
        var count = Split(line, parts);
        if (count is not (2 or 3 or 5)
            || !long.TryParse(line[parts[0]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var timestamp)
            || !PythonFloat.TryParse(line[parts[1]], out var value))
        {
            return false;
        }

        long step = 0;
        if (count >= 3 && !long.TryParse(line[parts[2]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out step))
        {
            return false;
        }

        point = count == 5
            ? new MetricLine(timestamp, value, step, Encoding.UTF8.GetString(line[parts[3]]), Encoding.UTF8.GetString(line[parts[4]]))
            : new MetricLine(timestamp, value, step);
        return true;
    }

    /// <summary>
    /// Splits on single spaces as <see cref="MemoryExtensions.Split(ReadOnlySpan{char}, Span{Range}, char, StringSplitOptions)"/>
    /// splits text: at most <paramref name="parts"/>.Length ranges, the last holding the rest.
    /// </summary>
    private static int Split(ReadOnlySpan<byte> line, Span<Range> parts)
    {
        var count = 0;
        var start = 0;
        while (count < parts.Length - 1)
        {
            var space = line[start..].IndexOf((byte)' ');
            if (space < 0)
            {
                break;
            }

            parts[count++] = start..(start + space);
            start += space + 1;
        }

        parts[count++] = start..line.Length;
        return count;
    }
}
