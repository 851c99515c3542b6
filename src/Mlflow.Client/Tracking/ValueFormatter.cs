using System.Globalization;

namespace Mlflow.Client;

/// <summary>
/// Param and tag values as text, the way MLflow's Python client writes them with <c>str()</c>: doubles as Python's
/// float text (<c>5e-05</c>, <c>32.0</c>, <c>nan</c>), bools as <c>True</c>/<c>False</c>, everything invariant-culture,
/// so the same value logged from Python and .NET compares equal.
/// </summary>
internal static class ValueFormatter
{
    public static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Format(double value) => FileStore.PythonFloat.Format(value);

    /// <summary>A float by its own shortest text (0.1f is <c>0.1</c>, not its double expansion), in Python's form.</summary>
    public static string Format(float value)
        => FileStore.PythonFloat.Format(double.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture));

    public static string Format(bool value) => value ? "True" : "False";

    /// <summary>TimeSpan in the invariant constant format, for example <c>00:01:30</c> or <c>1.02:03:04.5000000</c>.</summary>
    public static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>Any value: <see langword="null"/> as Python's <c>None</c>, formattable values in the invariant culture.</summary>
    public static string Format(object? value) => value switch
    {
        null => "None",
        string s => s,
        bool b => Format(b),
        double d => Format(d),
        float f => Format(f),
        TimeSpan t => Format(t),
        DateTimeOffset dto => dto.ToString("O", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
