using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mlflow.Client.FileStore;

/// <summary>
/// The search subset of the local store: filters joined with AND (<c>metrics.k &lt;op&gt; number</c>,
/// <c>params.k</c>/<c>tags.k</c> with <c>= != LIKE ILIKE</c>, <c>attributes.status/run_name/run_id/user_id/artifact_uri</c>
/// with <c>= != LIKE ILIKE IN NOT IN</c>, <c>attributes.start_time/end_time</c> numeric; experiments by <c>name</c>,
/// <c>tags.k</c>, <c>creation_time</c>, <c>last_update_time</c>), ordering, and MLflow-compatible offset page tokens.
/// This file parses and evaluates filters; <c>FileStoreSearch.OrderingAndPaging.cs</c> orders and pages the results.
/// </summary>
internal static partial class FileStoreSearch
{
    internal enum EntityType { Metric, Param, Tag, Attribute }

    internal sealed record Clause(EntityType Type, string Key, string Op, object Value);

    // ------------------------------------------------------------------ run filter parsing

    private static readonly string[] RunStringAttributes = ["run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"];
    private static readonly string[] RunNumericAttributes = ["start_time", "end_time", "created"];

    [GeneratedRegex(@"\s+and\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AndSeparator();

    // identifier  op  value
    [GeneratedRegex(@"^\s*(?<id>(?:[A-Za-z_]+\.)?(?:`[^`]+`|""[^""]+""|[^\s=!<>]+))\s*(?<op>!=|>=|<=|=|>|<|(?i:not\s+in)\b|(?i:in)\b|(?i:ilike)\b|(?i:like)\b)\s*(?<value>.+?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ClausePattern();

    public static List<Clause> ParseRunFilter(string? filter)
    {
        var result = new List<Clause>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return result;
        }

        foreach (var part in SplitAnd(filter))
        {
            var m = ClausePattern().Match(part);
            if (!m.Success)
            {
                throw Invalid($"Invalid clause '{part}' in filter '{filter}'.");
            }

            var (type, key) = ParseIdentifier(m.Groups["id"].Value, forRuns: true);
            var op = Regex.Replace(m.Groups["op"].Value.ToUpperInvariant(), @"\s+", " ");
            var rawValue = m.Groups["value"].Value;
            var numeric = type == EntityType.Metric || (type == EntityType.Attribute && Array.IndexOf(RunNumericAttributes, key) >= 0);
            if (numeric)
            {
                if (op is not ("=" or "!=" or ">" or ">=" or "<" or "<="))
                {
                    throw Invalid($"Invalid comparator '{op}' for a numeric field in '{part}'.");
                }

                if (!PythonFloat.TryParse(rawValue, out var number))
                {
                    throw Invalid($"Expected a number in '{part}'.");
                }

                result.Add(new Clause(type, key == "created" ? "start_time" : key, op, number));
                continue;
            }

            if (type == EntityType.Attribute && Array.IndexOf(RunStringAttributes, key) < 0)
            {
                throw Invalid($"Invalid attribute key '{key}' in '{part}'.");
            }

            if (op is ">" or ">=" or "<" or "<=")
            {
                throw Invalid($"Invalid comparator '{op}' for a string field in '{part}'.");
            }

            if (op is "IN" or "NOT IN")
            {
                if (type != EntityType.Attribute)
                {
                    throw Invalid($"'{op}' is only supported for attributes ('{part}').");
                }

                result.Add(new Clause(type, key, op, ParseList(rawValue, part)));
            }
            else
            {
                result.Add(new Clause(type, key, op, ParseString(rawValue, part)));
            }
        }

        return result;
    }

    private static IEnumerable<string> SplitAnd(string filter)
    {
        // Split on AND outside quotes.
        var parts = new List<string>();
        var sb = new StringBuilder();
        char quote = '\0';
        for (var i = 0; i < filter.Length; i++)
        {
            var c = filter[i];
            if (quote != '\0')
            {
                sb.Append(c);
                if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            if (c is '\'' or '"' or '`')
            {
                quote = c;
                sb.Append(c);
                continue;
            }

            var rest = filter.AsSpan(i);
            var m = AndSeparator().Match(filter, i);
            if (m.Success && m.Index == i)
            {
                parts.Add(sb.ToString());
                sb.Clear();
                i += m.Length - 1;
                continue;
            }

            _ = rest;
            sb.Append(c);
        }

        parts.Add(sb.ToString());
        return parts.Where(p => !string.IsNullOrWhiteSpace(p));
    }

    private static (EntityType, string) ParseIdentifier(string id, bool forRuns)
    {
        var dot = id.IndexOf('.', StringComparison.Ordinal);
        string prefix = "", key = id;
        if (dot > 0 && id[0] is not ('`' or '"'))
        {
            prefix = id[..dot].ToLowerInvariant();
            key = id[(dot + 1)..];
        }

        if (key.Length >= 2 && key[0] is '`' or '"' && key[^1] == key[0])
        {
            key = key[1..^1];
        }

        var type = prefix switch
        {
            "metric" or "metrics" when forRuns => EntityType.Metric,
            "param" or "params" or "parameter" or "parameters" when forRuns => EntityType.Param,
            "tag" or "tags" => EntityType.Tag,
            "attribute" or "attributes" or "attr" or "run" or "" => EntityType.Attribute,
            _ => throw Invalid($"Invalid entity type '{prefix}' in identifier '{id}'."),
        };
        if (type == EntityType.Attribute && prefix.Length == 0 && dot > 0)
        {
            throw Invalid($"Invalid identifier '{id}'.");
        }

        return (type, key);
    }

    private static string ParseString(string raw, string clause)
    {
        raw = raw.Trim();
        if (raw.Length >= 2 && raw[0] is '\'' or '"' && raw[^1] == raw[0])
        {
            return raw[1..^1].Replace(new string(raw[0], 2), raw[0].ToString(), StringComparison.Ordinal);
        }

        throw Invalid($"Expected a quoted string in '{clause}'.");
    }

    private static List<string> ParseList(string raw, string clause)
    {
        raw = raw.Trim();
        if (raw.Length < 2 || raw[0] != '(' || raw[^1] != ')')
        {
            throw Invalid($"Expected a list like ('a', 'b') in '{clause}'.");
        }

        var items = new List<string>();
        foreach (Match m in Regex.Matches(raw[1..^1], @"'((?:[^']|'')*)'|""((?:[^""]|"""")*)"""))
        {
            items.Add(m.Groups[1].Success ? m.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal) : m.Groups[2].Value);
        }

        return items;
    }

    // ------------------------------------------------------------------ evaluation

    public static bool Matches(Run run, List<Clause> filter)
    {
        foreach (var c in filter)
        {
            if (!Matches(run, c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Matches(Run run, Clause c)
    {
        switch (c.Type)
        {
            case EntityType.Metric:
            {
                var m = run.Data.Metrics.FirstOrDefault(x => x.Key == c.Key);
                return m is not null && Compare(m.Value, c.Op, (double)c.Value);
            }

            case EntityType.Param:
            {
                var p = run.Data.Params.FirstOrDefault(x => x.Key == c.Key);
                return p is not null && CompareString(p.Value, c.Op, (string)c.Value);
            }

            case EntityType.Tag:
            {
                var t = run.Data.Tags.FirstOrDefault(x => x.Key == c.Key);
                return t is not null && CompareString(t.Value, c.Op, (string)c.Value);
            }

            default:
            {
                if (c.Key is "start_time" or "end_time")
                {
                    var v = c.Key == "start_time" ? run.Info.StartTime : run.Info.EndTime;
                    return v is not null && Compare(v.Value, c.Op, (double)c.Value);
                }

                var text = c.Key switch
                {
                    "run_id" => run.Info.RunId,
                    "run_name" => run.Info.RunName,
                    "status" => StatusText(run.Info.Status),
                    "user_id" => run.Info.UserId,
                    "artifact_uri" => run.Info.ArtifactUri,
                    "lifecycle_stage" => run.Info.LifecycleStage == LifecycleStage.Deleted ? "deleted" : "active",
                    _ => null,
                };
                if (text is null)
                {
                    return false;
                }

                return c.Op switch
                {
                    "IN" => ((List<string>)c.Value).Contains(text, StringComparer.Ordinal),
                    "NOT IN" => !((List<string>)c.Value).Contains(text, StringComparer.Ordinal),
                    _ => CompareString(text, c.Op, (string)c.Value),
                };
            }
        }
    }

    internal static string StatusText(RunStatus status) => status switch
    {
        RunStatus.Running => "RUNNING",
        RunStatus.Scheduled => "SCHEDULED",
        RunStatus.Finished => "FINISHED",
        RunStatus.Failed => "FAILED",
        RunStatus.Killed => "KILLED",
        _ => status.ToString().ToUpperInvariant(),
    };

    private static bool Compare(double left, string op, double right) => op switch
    {
        "=" => left == right,
        "!=" => left != right,
        ">" => left > right,
        ">=" => left >= right,
        "<" => left < right,
        "<=" => left <= right,
        _ => false,
    };

    private static bool CompareString(string left, string op, string right) => op switch
    {
        "=" => string.Equals(left, right, StringComparison.Ordinal),
        "!=" => !string.Equals(left, right, StringComparison.Ordinal),
        "LIKE" => Like(left, right, ignoreCase: false),
        "ILIKE" => Like(left, right, ignoreCase: true),
        _ => false,
    };

    /// <summary>SQL LIKE: '%' any run, '_' one character.</summary>
    internal static bool Like(string value, string pattern, bool ignoreCase)
    {
        var regex = "^" + Regex.Escape(pattern).Replace("%", ".*", StringComparison.Ordinal).Replace("_", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(value, regex, RegexOptions.Singleline | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None), TimeSpan.FromSeconds(1));
    }

    // ------------------------------------------------------------------ experiment filter

    public static List<Experiment> FilterExperiments(List<Experiment> experiments, string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return experiments;
        }

        var predicates = new List<Func<Experiment, bool>>();
        foreach (var part in SplitAnd(filter))
        {
            var m = ClausePattern().Match(part);
            if (!m.Success)
            {
                throw Invalid($"Invalid clause '{part}' in filter '{filter}'.");
            }

            var (type, key) = ParseIdentifier(m.Groups["id"].Value, forRuns: false);
            var op = m.Groups["op"].Value.ToUpperInvariant();
            var raw = m.Groups["value"].Value;
            if (type == EntityType.Attribute && key is "creation_time" or "last_update_time")
            {
                if (!long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    throw Invalid($"Expected an integer in '{part}'.");
                }

                var isCreation = key == "creation_time";
                predicates.Add(e => (isCreation ? e.CreationTime : e.LastUpdateTime) is { } v && Compare(v, op, number));
            }
            else if (type == EntityType.Attribute && key == "name")
            {
                var value = ParseString(raw, part);
                CheckStringOp(op, part);
                predicates.Add(e => CompareString(e.Name, op, value));
            }
            else if (type == EntityType.Tag)
            {
                var value = ParseString(raw, part);
                CheckStringOp(op, part);
                predicates.Add(e => e.Tags.FirstOrDefault(t => t.Key == key) is { } t && CompareString(t.Value, op, value));
            }
            else
            {
                throw Invalid($"Invalid experiment filter key '{key}' in '{part}'.");
            }
        }

        return experiments.Where(e => predicates.All(p => p(e))).ToList();
    }

    private static void CheckStringOp(string op, string part)
    {
        if (op is not ("=" or "!=" or "LIKE" or "ILIKE"))
        {
            throw Invalid($"Invalid comparator '{op}' for a string field in '{part}'.");
        }
    }

    private static MlflowException Invalid(string message) => LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, message);
}
