using System.Globalization;

namespace Mlflow.Client;

/// <summary>Reads environment variables; a seam so tests need not touch the process environment.</summary>
internal sealed class EnvironmentReader
{
    private readonly Func<string, string?> _get;

    public EnvironmentReader(Func<string, string?> get) => _get = get;

    public static EnvironmentReader Process { get; } = new(Environment.GetEnvironmentVariable);

    public static EnvironmentReader FromDictionary(IReadOnlyDictionary<string, string> values)
        => new(name => values.TryGetValue(name, out var v) ? v : null);

    public string? Get(string name)
    {
        var value = _get(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public bool? GetBool(string name) => Get(name)?.ToLowerInvariant() switch
    {
        null => null,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var other => throw new ArgumentException($"Environment variable {name} must be true or false, not '{other}'."),
    };

    public double? GetDouble(string name)
    {
        var s = Get(name);
        if (s is null)
        {
            return null;
        }

        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ArgumentException($"Environment variable {name} must be a number, not '{s}'.");
    }

    public int? GetInt(string name)
    {
        var s = Get(name);
        if (s is null)
        {
            return null;
        }

        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ArgumentException($"Environment variable {name} must be a whole number, not '{s}'.");
    }
}
