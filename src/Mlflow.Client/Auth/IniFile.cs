namespace Mlflow.Client.Auth;

/// <summary>
/// Reads one section of an INI file as Python's <c>configparser</c> does for <c>~/.databrickscfg</c>: <c>[section]</c>
/// headers (case-sensitive), <c>key = value</c> or <c>key: value</c> (keys case-insensitive, both sides trimmed),
/// whole-line comments starting with <c>#</c> or <c>;</c>. Only the section's own keys count (as MLflow's profile
/// reader does), not the ones <c>[DEFAULT]</c> would lend it.
/// </summary>
internal static class IniFile
{
    /// <summary>The keys and values of <paramref name="section"/>; <see langword="null"/> when it does not appear.</summary>
    public static Dictionary<string, string>? ReadSection(IEnumerable<string> lines, string section)
    {
        Dictionary<string, string>? values = null;
        var inside = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                inside = string.Equals(line[1..^1].Trim(), section, StringComparison.Ordinal);
                if (inside)
                {
                    values ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                }

                continue;
            }

            var separator = line.IndexOfAny(['=', ':']);
            if (inside && separator > 0)
            {
                values![line[..separator].Trim()] = line[(separator + 1)..].Trim();
            }
        }

        return values;
    }
}
