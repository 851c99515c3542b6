// Ordering and paging of the local store's search results: order_by clauses (runs and experiments, MLflow's
// defaults and tie-breaks, missing values last) and MLflow-compatible offset page tokens.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mlflow.Client.FileStore;

internal static partial class FileStoreSearch
{
    // ------------------------------------------------------------------ order

    public static List<Run> SortRuns(List<Run> runs, IReadOnlyList<string>? orderBy)
    {
        // Default and tie-break: start_time DESC, then run_id ASC (as MLflow).
        IEnumerable<Run> sorted = runs.OrderByDescending(r => r.Info.StartTime ?? long.MinValue).ThenBy(r => r.Info.RunId, StringComparer.Ordinal);
        var list = sorted.ToList();
        if (orderBy is null || orderBy.Count == 0)
        {
            return list;
        }

        // Apply clauses from last to first with a stable sort, missing values last.
        for (var i = orderBy.Count - 1; i >= 0; i--)
        {
            var (type, key, ascending) = ParseOrderBy(orderBy[i], forRuns: true);
            var keyed = list.Select((r, index) => (Run: r, Index: index, Key: RunSortKey(r, type, key))).ToList();
            keyed.Sort((a, b) =>
            {
                var c = CompareSortKeys(a.Key, b.Key, ascending);
                return c != 0 ? c : a.Index.CompareTo(b.Index);
            });
            list = keyed.Select(k => k.Run).ToList();
        }

        return list;
    }

    private static object? RunSortKey(Run r, EntityType type, string key) => type switch
    {
        EntityType.Metric => r.Data.Metrics.FirstOrDefault(m => m.Key == key)?.Value,
        EntityType.Param => r.Data.Params.FirstOrDefault(p => p.Key == key)?.Value,
        EntityType.Tag => r.Data.Tags.FirstOrDefault(t => t.Key == key)?.Value,
        _ => key switch
        {
            "start_time" or "created" => r.Info.StartTime,
            "end_time" => r.Info.EndTime,
            "run_id" => r.Info.RunId,
            "run_name" => r.Info.RunName,
            "status" => StatusText(r.Info.Status),
            "user_id" => r.Info.UserId,
            "artifact_uri" => r.Info.ArtifactUri,
            _ => throw Invalid($"Invalid order_by attribute '{key}'."),
        },
    };

    private static int CompareSortKeys(object? a, object? b, bool ascending)
    {
        if (a is null || b is null)
        {
            return a is null ? (b is null ? 0 : 1) : -1; // missing last in both directions
        }

        var c = (a, b) switch
        {
            (double x, double y) => x.CompareTo(y),
            (long x, long y) => x.CompareTo(y),
            (string x, string y) => string.CompareOrdinal(x, y),
            _ => string.CompareOrdinal(Convert.ToString(a, CultureInfo.InvariantCulture), Convert.ToString(b, CultureInfo.InvariantCulture)),
        };
        return ascending ? c : -c;
    }

    private static (EntityType Type, string Key, bool Ascending) ParseOrderBy(string clause, bool forRuns)
    {
        var text = clause.Trim();
        var ascending = true;
        if (text.EndsWith(" desc", StringComparison.OrdinalIgnoreCase))
        {
            ascending = false;
            text = text[..^5].TrimEnd();
        }
        else if (text.EndsWith(" asc", StringComparison.OrdinalIgnoreCase))
        {
            text = text[..^4].TrimEnd();
        }

        var (type, key) = ParseIdentifier(text, forRuns);
        return (type, key, ascending);
    }

    public static List<Experiment> SortExperiments(List<Experiment> experiments, IReadOnlyList<string>? orderBy)
    {
        var clauses = orderBy is { Count: > 0 } ? orderBy : ["creation_time DESC", "experiment_id ASC"];
        IOrderedEnumerable<Experiment>? sorted = null;
        foreach (var clause in clauses)
        {
            var (_, key, ascending) = ParseOrderBy(clause, forRuns: false);
            Func<Experiment, object?> selector = key switch
            {
                "name" => e => e.Name,
                "experiment_id" => e => e.ExperimentId,
                "creation_time" => e => e.CreationTime ?? long.MinValue,
                "last_update_time" => e => e.LastUpdateTime ?? long.MinValue,
                _ => throw Invalid($"Invalid order_by key '{key}' for experiments."),
            };
            IComparer<object?> comparer = Comparer<object?>.Create((a, b) => CompareSortKeys(a, b, ascending: true));
            sorted = sorted is null
                ? (ascending ? experiments.OrderBy(selector, comparer) : experiments.OrderByDescending(selector, comparer))
                : (ascending ? sorted.ThenBy(selector, comparer) : sorted.ThenByDescending(selector, comparer));
        }

        return sorted!.ToList();
    }

    // ------------------------------------------------------------------ paging

    /// <summary>Pages with MLflow's own token format (base64 of <c>{"offset": n}</c>), so tokens stay opaque yet compatible.</summary>
    public static Page<T> Paginate<T>(List<T> items, string? pageToken, int maxResults)
    {
        var offset = 0;
        if (!string.IsNullOrEmpty(pageToken))
        {
            try
            {
                using var doc = JsonDocument.Parse(Convert.FromBase64String(pageToken));
                offset = doc.RootElement.GetProperty("offset").GetInt32();
            }
            catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw Invalid($"Invalid page token '{pageToken}'.");
            }

            if (offset < 0)
            {
                throw Invalid($"Invalid page token '{pageToken}'.");
            }
        }

        var page = items.Skip(offset).Take(maxResults).ToList();
        var next = offset + maxResults < items.Count
            ? Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"offset\": {offset + maxResults}}}")))
            : null;
        return new Page<T>(page, next);
    }
}
