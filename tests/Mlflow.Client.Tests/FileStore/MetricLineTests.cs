using System.Text;
using Mlflow.Client.FileStore;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// A metric file's line read from its bytes (<see cref="MetricLine.Read"/>, what the local store and mlflow-sync read)
/// gives what the same line parsed as text gives (<see cref="MetricLine.TryParse"/>), for the lines the SDK and MLflow
/// write and for the ones a torn write or a hand edit leaves.
/// </summary>
[TestFixture]
internal sealed class MetricLineTests
{
    [TestCase("1700000000000 0.5 3", 1_700_000_000_000L, 0.5, 3L)]
    [TestCase("1700000000000 0.5", 1_700_000_000_000L, 0.5, 0L)]
    [TestCase("-5 -1e-05 -7", -5L, -1e-05, -7L)]
    [TestCase("+5 +2.5 +7", 5L, 2.5, 7L)]
    [TestCase("  12 1.0 1  ", 12L, 1.0, 1L)]
    [TestCase("12 1.0 1\r", 12L, 1.0, 1L)]
    [TestCase("12 nan 1", 12L, double.NaN, 1L)]
    [TestCase("12 -inf 1", 12L, double.NegativeInfinity, 1L)]
    [TestCase("12 1_000.5 1", 12L, 1000.5, 1L)]
    [TestCase("12 1e+16 1", 12L, 1e16, 1L)]
    public void Reads_a_point(string line, long timestamp, double value, long step)
    {
        Assert.That(MetricLine.Read(Encoding.UTF8.GetBytes(line), out var point), Is.EqualTo(MetricLineKind.Point));
        Assert.That((point.Timestamp, point.Value, point.Step), Is.EqualTo((timestamp, value, step)));
        Assert.That(point.DatasetName, Is.Null);
        Assert.That(MetricLine.TryParse(line, out var asText), Is.True);
        Assert.That(asText, Is.EqualTo(point), "as text");
    }

    [TestCase("12 0.25 4 eval 1a2b3c", "eval")]
    [TestCase("12 0.25 4 évaluation 1a2b3c", "évaluation")]
    public void Reads_the_dataset_of_an_MLflow_3_line(string line, string dataset)
    {
        Assert.That(MetricLine.Read(Encoding.UTF8.GetBytes(line), out var point), Is.EqualTo(MetricLineKind.Point));
        Assert.That((point.Value, point.Step, point.DatasetName, point.DatasetDigest), Is.EqualTo((0.25, 4L, dataset, "1a2b3c")));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase(" \t\r")]
    [TestCase("\u00a0")]
    public void A_line_of_whitespace_is_blank(string line)
        => Assert.That(MetricLine.Read(Encoding.UTF8.GetBytes(line), out _), Is.EqualTo(MetricLineKind.Blank));

    [TestCase("12")]
    [TestCase("12 0.5 3 4")]
    [TestCase("12 0.5 3 a b c")]
    [TestCase("12  0.5 3")]
    [TestCase("12 0,5 3")]
    [TestCase("12 0.5 3.0")]
    [TestCase("1.5 0.5 3")]
    [TestCase("12 abc 3")]
    [TestCase("12 0.5 9223372036854775808")]
    [TestCase("12\t0.5\t3")]
    [TestCase("١٢ 0.5 3")]
    public void Anything_else_is_malformed(string line)
    {
        Assert.That(MetricLine.Read(Encoding.UTF8.GetBytes(line), out _), Is.EqualTo(MetricLineKind.Malformed));
        Assert.That(MetricLine.TryParse(line, out _), Is.False, "as text");
    }

    [Test]
    public void Random_lines_read_from_bytes_as_they_parse_as_text()
    {
        // Fields drawn from what files hold and what breaks them, joined by one or two separators.
        string[] fields = ["0", "-1", "+2", "1700000000000", "9223372036854775807", "0.5", "-0.0", "1e-05", "5e+300", "nan", "inf", "-inf", "1_0", "1__0", "", "x", "é", "1.5.1", ".5", "5.", "\t"];
        var rng = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var line = new StringBuilder();
            var count = rng.Next(1, 7);
            for (var f = 0; f < count; f++)
            {
                if (f > 0)
                {
                    line.Append(rng.Next(10) == 0 ? "  " : " ");
                }

                line.Append(fields[rng.Next(fields.Length)]);
            }

            var text = line.ToString();
            var kind = MetricLine.Read(Encoding.UTF8.GetBytes(text), out var point);
            var parsed = MetricLine.TryParse(text, out var asText);
            var expected = string.IsNullOrWhiteSpace(text) ? MetricLineKind.Blank : parsed ? MetricLineKind.Point : MetricLineKind.Malformed;
            Assert.That(kind, Is.EqualTo(expected), text);
            if (kind == MetricLineKind.Point)
            {
                Assert.That(BitConverter.DoubleToInt64Bits(point.Value), Is.EqualTo(BitConverter.DoubleToInt64Bits(asText.Value)), text);
                Assert.That(point with { Value = 0 }, Is.EqualTo(asText with { Value = 0 }), text);
            }
        }
    }
}
