using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>
/// A metric value on the wire, the one format of every request that sends one: a finite value as the shortest JSON
/// number that reads back as the same double (<see cref="FastDoubleFormatter"/>; zero keeps its sign as <c>-0.0</c>,
/// which Python's json reads as negative zero, where <see cref="Utf8JsonWriter.WriteNumberValue(double)"/> writes
/// <c>-0</c>, an integer), a non-finite one as the string <c>"NaN"</c>, <c>"Infinity"</c> or <c>"-Infinity"</c>.
/// </summary>
internal sealed class MetricValueConverter : JsonConverter<double>
{
    /// <summary>Writes <paramref name="value"/> as the current JSON value.</summary>
    internal static void WriteValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            // double.TryFormat (used by WriteNumberValue) costs 150-300 ns for full-precision values; Grisu2 a fraction.
            Span<byte> number = stackalloc byte[FastDoubleFormatter.MaxLength];
            var length = FastDoubleFormatter.Format(value, number);
            writer.WriteRawValue(number[..length], skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => reader.TokenType == JsonTokenType.String
            ? reader.GetString() switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                "-Infinity" => double.NegativeInfinity,
                var s => double.Parse(s!, NumberStyles.Float, CultureInfo.InvariantCulture),
            }
            : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => WriteValue(writer, value);
}
