using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Mlflow.Client.Rest;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Rest;

/// <summary>A metric value on the wire reads back as the same double, sign of zero included; non-finite values as MLflow's strings.</summary>
public class MetricValueConverterTests
{
    private static string Write(double value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            MetricValueConverter.WriteValue(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Test]
    public void Random_bit_patterns_read_back_bit_for_bit()
    {
        var random = new Random(20261205);
        Span<byte> bits = stackalloc byte[8];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(bits);
            var value = BitConverter.ToDouble(bits);
            if (!double.IsFinite(value))
            {
                continue;
            }

            var text = Write(value);
            Assert.That(BitConverter.DoubleToInt64Bits(double.Parse(text, CultureInfo.InvariantCulture)), Is.EqualTo(BitConverter.DoubleToInt64Bits(value)), text);
        }
    }

    [TestCase(-0.0, "-0.0")]
    [TestCase(0.0, "0")]
    [TestCase(0.1, "0.1")]
    [TestCase(double.NaN, "\"NaN\"")]
    [TestCase(double.PositiveInfinity, "\"Infinity\"")]
    [TestCase(double.NegativeInfinity, "\"-Infinity\"")]
    public void Special_values_have_the_form_MLflow_reads(double value, string expected)
        => Assert.That(Write(value), Is.EqualTo(expected));
}
