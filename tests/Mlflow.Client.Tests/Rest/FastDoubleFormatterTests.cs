using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Rest;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// <see cref="FastDoubleFormatter"/> must give back every finite double bit for bit through <see cref="double.Parse(string, IFormatProvider?)"/>,
/// in JSON number syntax, and the log-batch body written with it must mean what the generated serializer would write.
/// </summary>
[TestFixture]
public class FastDoubleFormatterTests
{
    private static string Format(double value)
    {
        Span<byte> buffer = stackalloc byte[FastDoubleFormatter.MaxLength];
        var length = FastDoubleFormatter.Format(value, buffer);
        return Encoding.ASCII.GetString(buffer[..length]);
    }

    /// <summary>Formats and parses back; returns a failure description or null. Kept allocation-light for the big loops.</summary>
    private static string? RoundTripFailure(double value, Span<byte> buffer, Span<char> chars)
    {
        var length = FastDoubleFormatter.Format(value, buffer);
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)buffer[i];
        }

        var parsed = double.Parse(chars[..length], NumberStyles.Float, CultureInfo.InvariantCulture);
        return BitConverter.DoubleToInt64Bits(parsed) == BitConverter.DoubleToInt64Bits(value)
            ? null
            : $"{value:R} (bits {BitConverter.DoubleToInt64Bits(value):X16}) written as {new string(chars[..length])}, read back as {parsed:R}";
    }

    private static void AssertRoundTrips(IEnumerable<double> values)
    {
        var buffer = new byte[FastDoubleFormatter.MaxLength];
        var chars = new char[FastDoubleFormatter.MaxLength];
        var failures = new List<string>();
        var count = 0;
        foreach (var v in values)
        {
            count++;
            if (RoundTripFailure(v, buffer, chars) is { } failure && failures.Count < 20)
            {
                failures.Add(failure);
            }
        }

        Assert.That(count, Is.GreaterThan(0));
        Assert.That(failures, Is.Empty);
    }

    private static IEnumerable<double> EdgeCases()
    {
        yield return 0.0;
        yield return -0.0;
        yield return double.Epsilon;
        yield return -double.Epsilon;
        yield return double.MaxValue;
        yield return double.MinValue;
        yield return 2.2250738585072014e-308; // smallest normal
        yield return -2.2250738585072014e-308;
        yield return BitConverter.Int64BitsToDouble(0x000FFFFFFFFFFFFF); // largest subnormal
        yield return BitConverter.Int64BitsToDouble(0x7FEFFFFFFFFFFFFE);
        for (var p = -320; p <= 308; p++)
        {
            var v = double.Parse($"1e{p}", CultureInfo.InvariantCulture);
            yield return v;
            yield return -v;
            yield return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v) + 1);
            yield return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v) - 1);
        }

        for (var p = -1074; p <= 1023; p++)
        {
            var v = Math.ScaleB(1.0, p);
            yield return v;
            yield return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v) - 1);
            yield return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v) + 1);
        }

        for (long i = 1; i <= 1 << 20; i++)
        {
            yield return i;
        }

        for (var p = 20; p <= 53; p++)
        {
            yield return (double)(1L << p) - 1;
            yield return 1L << p;
            yield return (double)(1L << p) + 1;
        }

        yield return 9007199254740992.0; // 2^53
        yield return 9007199254740994.0; // 2^53 + 2
        yield return 9007199254740991.0; // 2^53 - 1
        yield return 0.1;
        yield return 0.2;
        yield return 0.3;
        yield return 0.1 + 0.2;
        yield return 1.0 / 3;
        yield return 2.0 / 3;
        yield return -1.0 / 3;
        yield return Math.PI;
        yield return Math.E;
        yield return 1.2345678901234567;
        yield return 9.8765432109876543e-100;
        yield return 1.7976931348623157e308;
        yield return 4.9406564584124654e-324;
        yield return 2.2250738585072011e-308;
        yield return 123456789012345678.0;
        yield return 0.30000000000000004;
        yield return 5e-324;
        yield return 1e21;
        yield return 1e22;
        yield return 1e23;
        yield return 999999999999999999999.0;
        yield return 0.000001;
        yield return 0.0000001;
        yield return 1.5e-7;
    }

    [Test]
    public void EdgeCases_RoundTrip() => AssertRoundTrips(EdgeCases());

    [Test]
    public void RandomBitPatterns_RoundTrip()
    {
        var random = new Random(20100605);
        AssertRoundTrips(RandomFinite(random, 2_000_000));

        static IEnumerable<double> RandomFinite(Random random, int count)
        {
            for (var i = 0; i < count; i++)
            {
                double v;
                do
                {
                    v = BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue));
                }
                while (!double.IsFinite(v));

                yield return v;
            }
        }
    }

    [Test]
    public void RandomUnitInterval_AndThousandths_RoundTrip()
    {
        var random = new Random(42);
        AssertRoundTrips(Enumerable.Range(0, 1_000_000).Select(_ => random.NextDouble()));
        AssertRoundTrips(Enumerable.Range(0, 1_000_000).Select(k => k / 1000.0));
        AssertRoundTrips(Enumerable.Range(1, 100_000).Select(i => 1.0 / i));
    }

    [Test]
    public void NegativeZero_StaysNegative()
    {
        Assert.That(Format(-0.0), Is.EqualTo("-0.0"));
        Assert.That(Format(0.0), Is.EqualTo("0.0"));
        Assert.That(double.IsNegative(JsonDocument.Parse(Format(-0.0)).RootElement.GetDouble()), Is.True);
    }

    [TestCase(1.0, "1")]
    [TestCase(-2.5, "-2.5")]
    [TestCase(0.1, "0.1")]
    [TestCase(100.0, "100")]
    [TestCase(1e20, "100000000000000000000")]
    [TestCase(1e21, "1e+21")]
    [TestCase(0.000001, "0.000001")]
    [TestCase(1e-7, "1e-7")]
    [TestCase(1.5e-300, "1.5e-300")]
    [TestCase(double.MaxValue, "1.7976931348623157e+308")]
    [TestCase(double.Epsilon, "5e-324")]
    [TestCase(1.0 / 3, "0.3333333333333333")]
    public void Output_IsShortForUsualValues(double value, string expected) => Assert.That(Format(value), Is.EqualTo(expected));

    [Test]
    public void Output_IsValidJson_AndUsuallyShortest()
    {
        var random = new Random(7);
        var longer = 0;
        const int Count = 20_000;
        for (var i = 0; i < Count; i++)
        {
            double v;
            do
            {
                v = BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue));
            }
            while (!double.IsFinite(v));

            var text = Format(v);
            using var doc = JsonDocument.Parse(text);
            Assert.That(doc.RootElement.ValueKind, Is.EqualTo(JsonValueKind.Number), text);
            Assert.That(BitConverter.DoubleToInt64Bits(doc.RootElement.GetDouble()), Is.EqualTo(BitConverter.DoubleToInt64Bits(v)), text);
            var shortest = v.ToString("R", CultureInfo.InvariantCulture);
            if (SignificantDigits(text) > SignificantDigits(shortest))
            {
                longer++;
            }
        }

        // Grisu2 misses the shortest digits for a small fraction of values only.
        Assert.That(longer, Is.LessThan(Count / 100));

        static int SignificantDigits(string s)
        {
            var mantissa = s.Split('e', 'E')[0].Replace("-", "", StringComparison.Ordinal).Replace(".", "", StringComparison.Ordinal).Trim('0');
            return mantissa.Length;
        }
    }

    [Test]
    public void NonFinite_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Format(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Format(double.PositiveInfinity));
    }

    [Test]
    public void LogBatchBody_MeansWhatStandardNumberWritingMeans()
    {
        var random = new Random(3);
        var values = new List<double> { 0.0, -0.0, 1.0 / 3, 0.1, double.MaxValue, double.MinValue, double.Epsilon, 1e21, 1e-7, 12345.678, double.NaN, double.PositiveInfinity, double.NegativeInfinity };
        values.AddRange(Enumerable.Range(0, 1000).Select(i => 1.0 / (i + 1)));
        values.AddRange(Enumerable.Range(0, 500).Select(_ => random.NextDouble() * Math.Pow(10, random.Next(-30, 30))));
        values.AddRange(Enumerable.Range(0, 500).Select(_ => BitConverter.Int64BitsToDouble(random.NextInt64(0, 0x7FEFFFFFFFFFFFFF))));
        var metrics = values.Select((v, i) => new Metric($"m/{i % 7}", v, 1_700_000_000_000 + i, i)).ToList();
        var request = new LogBatchRequest("0123456789abcdef0123456789abcdef", metrics, [new Param("lr", "0.1")], [new Tag("t", "x")]);

        var body = JsonSerializer.SerializeToUtf8Bytes(request, MlflowJsonContext.Default.LogBatchRequest);

        var reference = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(reference))
        {
            w.WriteStartObject();
            w.WriteString("run_id", request.RunId);
            w.WriteStartArray("metrics");
            foreach (var m in metrics)
            {
                w.WriteStartObject();
                w.WriteString("key", m.Key);
                if (double.IsFinite(m.Value))
                {
                    w.WriteNumber("value", m.Value);
                }
                else
                {
                    w.WriteString("value", double.IsNaN(m.Value) ? "NaN" : m.Value > 0 ? "Infinity" : "-Infinity");
                }

                w.WriteNumber("timestamp", m.Timestamp);
                w.WriteNumber("step", m.Step);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("params");
            w.WriteStartObject();
            w.WriteString("key", "lr");
            w.WriteString("value", "0.1");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("tags");
            w.WriteStartObject();
            w.WriteString("key", "t");
            w.WriteString("value", "x");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        var actual = JsonNode.Parse(body)!;
        var expected = JsonNode.Parse(reference.WrittenSpan)!;
        Assert.That(JsonNode.DeepEquals(NumbersAsDoubles(actual), NumbersAsDoubles(expected)), Is.True);

        // Negative zero keeps its sign, which numeric comparison alone would not see.
        var zero = actual["metrics"]![1]!["value"]!.GetValue<double>();
        Assert.That(double.IsNegative(zero), Is.True);
    }

    /// <summary>A copy of the tree whose numbers are re-created from their double value (so 0.1 and 1e-1 compare equal).</summary>
    private static JsonNode? NumbersAsDoubles(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, NumbersAsDoubles(p.Value)))),
        JsonArray a => new JsonArray(a.Select(NumbersAsDoubles).ToArray()),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => JsonValue.Create(v.GetValue<double>()),
        _ => node?.DeepClone(),
    };
}
