using System.Globalization;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>Param values as MLflow's Python client writes them (<c>str(value)</c>); expected texts are CPython's.</summary>
[TestFixture]
public class ValueFormatterTests
{
    [TestCase(5e-5, "5e-05")]
    [TestCase(32.0, "32.0")]
    [TestCase(0.1, "0.1")]
    [TestCase(1e16, "1e+16")]
    [TestCase(123456789.125, "123456789.125")]
    [TestCase(double.NaN, "nan")]
    [TestCase(double.PositiveInfinity, "inf")]
    public void Double_IsPythonFloatText(double value, string expected)
        => Assert.That(ValueFormatter.Format(value), Is.EqualTo(expected));

    [Test]
    public void Float_UsesItsOwnShortestText()
    {
        Assert.That(ValueFormatter.Format(0.1f), Is.EqualTo("0.1"));
        Assert.That(ValueFormatter.Format(3f), Is.EqualTo("3.0"));
    }

    [Test]
    public void Formatting_IgnoresTheCurrentCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            Assert.That(ValueFormatter.Format(2.5), Is.EqualTo("2.5"));
            Assert.That(ValueFormatter.Format(2.5m), Is.EqualTo("2.5"));
            Assert.That(ValueFormatter.Format((object?)true), Is.EqualTo("True"));
            Assert.That(ValueFormatter.Format((object?)null), Is.EqualTo("None"));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }
}
