// Metrics linked to a logged model: each line of a model's metric file names a point of the run (the local store wrote
// both at once), and that point is sent in the run's log-batch with the server model's id and the line's dataset, so
// the server gets it once as the run's point and once as the model's, on either backend (MLflow 3.11.1's log-batch
// stores a point with model_id both ways; its file store appends every point it gets, its SQL store keeps one).
using PointKey = Mlflow.Client.MetricReconciler.PointKey;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    /// <summary>
    /// Pairs the lines of the pushed models' metric files that name this run with points of the run's metric files, and
    /// makes those points go with the model link. A pairing is decided once, recorded in the journal
    /// (<see cref="SyncJournal.MetricLinks"/>, <see cref="SyncModelEntry.MetricLines"/>) before any point is sent, and
    /// applied again by every later sync until the point is acknowledged, so a resumed or reconciled send carries the
    /// same link. A line is paired with an unacknowledged point of the same timestamp, step and value not paired yet.
    /// A line whose point the server already acknowledged without the link (a sync of an older version, or a model
    /// pushed after its points) is settled unlinked: sending the point again would duplicate it on a file-backed server.
    /// A line with neither waits (its point is written after the metric files were read).
    /// </summary>
    private void LinkModelMetrics(RunState s)
    {
        var journal = s.Journal!;
        foreach (var (key, links) in journal.MetricLinks.ToList())
        {
            var acknowledged = journal.Metrics.GetValueOrDefault(key);
            links.RemoveAll(l => l.Index < acknowledged); // delivered with their links
            if (links.Count == 0 || !s.Points.TryGetValue(key, out var file))
            {
                journal.MetricLinks.Remove(key);
                continue;
            }

            foreach (var link in links)
            {
                if (link.Index < file.Count && journal.Models.TryGetValue(link.Model, out var entry) && entry.ServerModelId is { } serverId)
                {
                    file.Link(link.Index, serverId, link.DatasetName, link.DatasetDigest);
                }
            }
        }

        var free = new Dictionary<string, Dictionary<PointKey, Queue<long>>>(StringComparer.Ordinal);
        var sent = new Dictionary<string, HashSet<PointKey>>(StringComparer.Ordinal);
        var changed = false;
        foreach (var model in s.Models)
        {
            if (!journal.Models.TryGetValue(model.Id, out var entry) || entry.ServerModelId is not { } serverId)
            {
                continue; // not pushed (pending, refused): its points go as the run's only
            }

            foreach (var (key, lines) in model.Lines)
            {
                var settled = (int)Math.Min(entry.MetricLines.GetValueOrDefault(key), lines.Count);
                if (settled == lines.Count)
                {
                    continue;
                }

                if (!s.Points.TryGetValue(key, out var file))
                {
                    SyncLog.ModelMetricsWaiting(_logger, s.LocalRunId, model.Id, key, lines.Count - settled);
                    continue;
                }

                var acknowledged = journal.Metrics.GetValueOrDefault(key);
                var unlinked = 0;
                for (var j = settled; j < lines.Count; j++)
                {
                    var line = lines[j];
                    var point = PointKey.Of(line);
                    if (FreePoints(journal, key, file, acknowledged, free).TryGetValue(point, out var candidates) && candidates.Count > 0)
                    {
                        var index = candidates.Dequeue();
                        if (!journal.MetricLinks.TryGetValue(key, out var links))
                        {
                            journal.MetricLinks[key] = links = [];
                        }

                        links.Add(new SyncMetricLink { Index = index, Model = model.Id, DatasetName = line.DatasetName, DatasetDigest = line.DatasetDigest });
                        file.Link(index, serverId, line.DatasetName, line.DatasetDigest);
                    }
                    else if (SentPoints(key, file, acknowledged, sent).Contains(point))
                    {
                        unlinked++;
                    }
                    else
                    {
                        SyncLog.ModelMetricsWaiting(_logger, s.LocalRunId, model.Id, key, lines.Count - j);
                        break;
                    }

                    entry.MetricLines[key] = j + 1;
                    changed = true;
                }

                if (unlinked > 0)
                {
                    SyncLog.ModelMetricsUnlinked(_logger, s.LocalRunId, model.Id, key, unlinked);
                }
            }
        }

        if (changed)
        {
            journal.Save(s.JournalPath!); // before any point goes: a later sync applies the same links
        }
    }

    /// <summary>The unacknowledged points of a key not paired yet, by identity, in file order (built once per key).</summary>
    private static Dictionary<PointKey, Queue<long>> FreePoints(SyncJournal journal, string key, LocalMetricFile file, long acknowledged, Dictionary<string, Dictionary<PointKey, Queue<long>>> cache)
    {
        if (cache.TryGetValue(key, out var known))
        {
            return known;
        }

        var linked = journal.MetricLinks.TryGetValue(key, out var links) ? links.Select(l => l.Index).ToHashSet() : [];
        var result = new Dictionary<PointKey, Queue<long>>();
        for (var i = acknowledged; i < file.Count; i++)
        {
            if (linked.Contains(i))
            {
                continue;
            }

            var point = PointKey.Of(file[i]);
            if (!result.TryGetValue(point, out var queue))
            {
                result[point] = queue = new Queue<long>();
            }

            queue.Enqueue(i);
        }

        cache[key] = result;
        return result;
    }

    /// <summary>The identities of a key's acknowledged points (read from the file's start once per key, only when a line cannot be paired).</summary>
    private static HashSet<PointKey> SentPoints(string key, LocalMetricFile file, long acknowledged, Dictionary<string, HashSet<PointKey>> cache)
    {
        if (!cache.TryGetValue(key, out var known))
        {
            var points = file.FromStart();
            cache[key] = known = points.Take((int)Math.Min(acknowledged, points.Count)).Select(PointKey.Of).ToHashSet();
        }

        return known;
    }

    /// <summary>Whether two points go with the same model link (or none).</summary>
    private static bool SameLink(Metric a, Metric b)
        => a.ModelId == b.ModelId && a.DatasetName == b.DatasetName && a.DatasetDigest == b.DatasetDigest;

    /// <summary>
    /// Cuts points of one key into log-batch requests of at most <paramref name="size"/> such that no request holds two
    /// points of the same timestamp, step and value with different model links: MLflow 3.11.1's SQL store refuses such a
    /// request whole (both rows of its metrics table collide), while in separate requests it keeps the run's point once
    /// and adds the model's.
    /// </summary>
    private static List<List<Metric>> SplitTwins(IReadOnlyList<Metric> points, int size)
    {
        var chunks = new List<List<Metric>>();
        var current = new List<Metric>();
        var seen = new Dictionary<PointKey, Metric>();
        foreach (var point in points)
        {
            var identity = PointKey.Of(point);
            if (current.Count == size || (seen.TryGetValue(identity, out var other) && !SameLink(other, point)))
            {
                chunks.Add(current);
                current = [];
                seen.Clear();
            }

            seen.TryAdd(identity, point);
            current.Add(point);
        }

        if (current.Count > 0)
        {
            chunks.Add(current);
        }

        return chunks;
    }

    /// <summary>
    /// On a server that keeps identical points once (SQL), what of an unclear range still goes: the points missing from
    /// the history, where a linked point replaces the unlinked copy of the same point (it writes the run's row too), plus
    /// every linked point of the range (its model row may be missing although the run's row is there; sending it again
    /// is harmless there), except a NaN point the server holds (a SQL store refuses it).
    /// </summary>
    private static List<Metric> WithLinkedPoints(IReadOnlyList<Metric> local, int from, int to, IReadOnlyList<Metric> history, List<Metric> missing)
    {
        var onServer = history.Select(PointKey.Of).ToHashSet();
        var linked = new List<Metric>();
        var linkedPoints = new HashSet<PointKey>();
        var seen = new HashSet<(PointKey, string?, string?, string?)>();
        for (var i = from; i < to; i++)
        {
            var point = local[i];
            var identity = PointKey.Of(point);
            if (point.ModelId is null
                || (double.IsNaN(point.Value) && (onServer.Contains(identity) || linkedPoints.Contains(identity)))
                || !seen.Add((identity, point.ModelId, point.DatasetName, point.DatasetDigest)))
            {
                continue;
            }

            linked.Add(point);
            linkedPoints.Add(identity);
        }

        return linked.Count == 0 ? missing : missing.Where(m => !linkedPoints.Contains(PointKey.Of(m))).Concat(linked).ToList();
    }
}
