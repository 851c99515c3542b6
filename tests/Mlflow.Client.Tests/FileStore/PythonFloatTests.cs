using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>Expected texts were produced by CPython 3 <c>repr(float)</c>.</summary>
internal sealed class PythonFloatTests
{
    [TestCase(1.0, "1.0")]
    [TestCase(0.5, "0.5")]
    [TestCase(1.0 / 3.0, "0.3333333333333333")]
    [TestCase(5e-05, "5e-05")]
    [TestCase(1e-05, "1e-05")]
    [TestCase(1e16, "1e+16")]
    [TestCase(1e15, "1000000000000000.0")]
    [TestCase(123456789012345678.0, "1.2345678901234568e+17")]
    [TestCase(0.0001, "0.0001")]
    [TestCase(0.00012345, "0.00012345")]
    [TestCase(-0.0, "-0.0")]
    [TestCase(0.0, "0.0")]
    [TestCase(1e-300, "1e-300")]
    [TestCase(double.MaxValue, "1.7976931348623157e+308")]
    [TestCase(double.Epsilon, "5e-324")]
    [TestCase(-2.5, "-2.5")]
    [TestCase(100.0, "100.0")]
    [TestCase(1e22, "1e+22")]
    [TestCase(12345.678, "12345.678")]
    [TestCase(0.1 + 0.2, "0.30000000000000004")]
    [TestCase(3.333333333333333e-08, "3.333333333333333e-08")]
    [TestCase(9999999999999998.0, "9999999999999998.0")]
    [TestCase(9007199254740992.0, "9007199254740992.0")]
    [TestCase(42.0, "42.0")]
    [TestCase(double.NaN, "nan")]
    [TestCase(double.PositiveInfinity, "inf")]
    [TestCase(double.NegativeInfinity, "-inf")]
    public void Formats_like_python_repr(double value, string expected)
    {
        Assert.That(PythonFloat.Format(value), Is.EqualTo(expected));
        Assert.That(Utf8(value), Is.EqualTo(expected), "UTF-8 fast path");
        Assert.That(PythonFloat.TryParse(expected, out var back), Is.True);
        Assert.That(back, Is.EqualTo(value), "round trip");
        if (value == 0)
        {
            Assert.That(double.IsNegative(back), Is.EqualTo(double.IsNegative(value)), "sign of zero");
        }
    }

    [Test]
    public void Is_culture_invariant()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.That(PythonFloat.Format(1.5), Is.EqualTo("1.5"));
            Assert.That(PythonFloat.Format(double.PositiveInfinity), Is.EqualTo("inf"));
            Assert.That(PythonFloat.TryParse("1.5", out var v) && v == 1.5, Is.True);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Test]
    public void Utf8_path_equals_general_path_across_magnitudes()
    {
        var rng = new Random(99);
        for (var exp = -30; exp <= 30; exp++)
        {
            for (var i = 0; i < 200; i++)
            {
                var d = Math.Round(rng.NextDouble(), rng.Next(0, 16)) * Math.Pow(10, exp) * (i % 2 == 0 ? 1 : -1);
                Assert.That(Utf8(d), Is.EqualTo(PythonFloat.Format(d)), d.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                var integral = Math.Floor(d);
                Assert.That(Utf8(integral), Is.EqualTo(PythonFloat.Format(integral)));
            }
        }
    }

    private static string Utf8(double value)
    {
        Span<byte> buffer = stackalloc byte[PythonFloat.MaxLength];
        var n = PythonFloat.FormatUtf8(value, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    [TestCase("NaN", double.NaN)]
    [TestCase("-Infinity", double.NegativeInfinity)]
    [TestCase("+inf", double.PositiveInfinity)]
    [TestCase("1_000.5", 1000.5)]
    [TestCase(" 2.5 ", 2.5)]
    [TestCase("1E3", 1000.0)]
    public void Parses_what_python_float_accepts(string text, double expected)
    {
        Assert.That(PythonFloat.TryParse(text, out var v), Is.True);
        Assert.That(v, Is.EqualTo(expected));
        Assert.That(PythonFloat.TryParse(System.Text.Encoding.UTF8.GetBytes(text), out var fromBytes), Is.True, "from UTF-8");
        Assert.That(fromBytes, Is.EqualTo(expected), "from UTF-8");
    }

    [TestCase("")]
    [TestCase("abc")]
    [TestCase("1,5")]
    [TestCase("_1")]
    [TestCase("1__0")]
    [TestCase("∞")]
    [TestCase("-")]
    [TestCase("--1")]
    [TestCase("1e")]
    [TestCase("1.2.3")]
    public void Refuses_what_python_float_refuses(string text)
    {
        Assert.That(PythonFloat.TryParse(text, out _), Is.False);
        Assert.That(PythonFloat.TryParse(System.Text.Encoding.UTF8.GetBytes(text), out _), Is.False, "from UTF-8");
    }

    [Test]
    public void Random_doubles_round_trip_and_match_shortest_digits()
    {
        var rng = new Random(1234);
        Span<byte> bytes = stackalloc byte[8];
        for (var i = 0; i < 20_000; i++)
        {
            rng.NextBytes(bytes);
            var d = BitConverter.ToDouble(bytes);
            var text = PythonFloat.Format(d);
            Assert.That(Utf8(d), Is.EqualTo(text), "UTF-8 fast path");
            Assert.That(PythonFloat.TryParse(text, out var back), Is.True, text);
            if (double.IsNaN(d))
            {
                Assert.That(double.IsNaN(back), Is.True);
                continue;
            }

            Assert.That(back, Is.EqualTo(d), text);
            Assert.That(PythonFloat.TryParse(System.Text.Encoding.ASCII.GetBytes(text), out var fromBytes), Is.True, text);
            Assert.That(BitConverter.DoubleToInt64Bits(fromBytes), Is.EqualTo(BitConverter.DoubleToInt64Bits(d)), "from UTF-8, bit for bit: " + text);
            Assert.That(text, Does.Not.Contain("E").And.Not.Contain(","), text);
        }
    }
}
