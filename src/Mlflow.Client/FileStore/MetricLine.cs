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
    /// Reads a line of UTF-8 bytes (without its line end). Printable ASCII, what the SDK and MLflow write, is parsed from
    /// the bytes; any other line as decoded text, with the same rules.
    /// </summary>
    public static MetricLineKind Read(ReadOnlySpan<byte> line, out MetricLine point)
    {
        if (line.IndexOfAnyExceptInRange((byte)' ', (byte)'~') >= 0)
        {
            var chars = line.Length <= 256 ? stackalloc char[256] : new char[line.Length]; // never more chars than bytes
            var text = chars[..Encoding.UTF8.GetChars(line, chars)];
            point = default;
            return text.IsWhiteSpace() ? MetricLineKind.Blank : TryParse(text, out point) ? MetricLineKind.Point : MetricLineKind.Malformed;
        }

        line = line.Trim((byte)' ');
        if (line.IsEmpty)
        {
            point = default;
            return MetricLineKind.Blank;
        }

        Span<Range> parts = stackalloc Range[6];
        var count = Split(line, parts);
        point = default;
        if (count is not (2 or 3 or 5)
            || !long.TryParse(line[parts[0]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var timestamp)
            || !PythonFloat.TryParse(line[parts[1]], out var value))
        {
            return MetricLineKind.Malformed;
        }

        long step = 0;
        if (count >= 3 && !long.TryParse(line[parts[2]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out step))
        {
            return MetricLineKind.Malformed;
        }

        point = count == 5
            ? new MetricLine(timestamp, value, step, Encoding.ASCII.GetString(line[parts[3]]), Encoding.ASCII.GetString(line[parts[4]]))
            : new MetricLine(timestamp, value, step);
        return MetricLineKind.Point;
    }

    /// <summary>Parses a line of text: the fields split on single spaces, after trimming the line.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out MetricLine point)
    {
        point = default;
        line = line.Trim();
        Span<Range> parts = stackalloc Range[6];
        var count = line.Split(parts, ' ');
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
            ? new MetricLine(timestamp, value, step, line[parts[3]].ToString(), line[parts[4]].ToString())
            : new MetricLine(timestamp, value, step);
        return true;
    }

    /// <summary>
    /// Splits on single spaces as <see cref="MemoryExtensions.Split(ReadOnlySpan{char}, Span{Range}, char, StringSplitOptions)"/>
    /// does: at most <paramref name="parts"/>.Length ranges, the last holding the rest.
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
