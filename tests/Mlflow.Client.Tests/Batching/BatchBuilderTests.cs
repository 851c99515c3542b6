using NUnit.Framework;
using Mlflow.Client.Batching;

namespace Mlflow.Client.Tests.Batching;

public class BatchBuilderTests
{
    private static List<(int Metrics, int Params, int Tags)> Split(LogEntry[] entries, int maxEntries = 1000)
    {
        var keys = new HashSet<string>();
        var result = new List<(int, int, int)>();
        var start = 0;
        while (start < entries.Length)
        {
            var end = BatchBuilder.NextBatchEnd(entries, start, maxEntries, keys);
            Assert.That(end, Is.GreaterThan(start));
            var (m, p, t) = BatchBuilder.ToRequest(entries.AsSpan(start, end - start));
            result.Add((m.Count, p.Count, t.Count));
            start = end;
        }

        return result;
    }

    [Test]
    public void Metrics_then_params_split_at_the_server_limits()
    {
        var entries = Enumerable.Range(0, 2500).Select(i => LogEntry.Metric("m", i, 1, i))
            .Concat(Enumerable.Range(0, 150).Select(i => LogEntry.Param("p" + i, "v")))
            .ToArray();
        Assert.That(Split(entries), Is.EqualTo(new[] { (1000, 0, 0), (1000, 0, 0), (500, 100, 0), (0, 50, 0) }));
    }

    [Test]
    public void Exactly_1000_metrics_is_one_batch_and_1001_is_two()
    {
        Assert.That(Split(Enumerable.Range(0, 1000).Select(i => LogEntry.Metric("m", i, 1, i)).ToArray()), Is.EqualTo(new[] { (1000, 0, 0) }));
        Assert.That(Split(Enumerable.Range(0, 1001).Select(i => LogEntry.Metric("m", i, 1, i)).ToArray()), Is.EqualTo(new[] { (1000, 0, 0), (1, 0, 0) }));
    }

    [Test]
    public void Tags_are_capped_at_100_and_entities_at_1000()
    {
        var entries = Enumerable.Range(0, 250).Select(i => LogEntry.Tag("t" + i, "v"))
            .Concat(Enumerable.Range(0, 990).Select(i => LogEntry.Metric("m", i, 1, i)))
            .ToArray();
        Assert.That(Split(entries), Is.EqualTo(new[] { (0, 0, 100), (0, 0, 100), (950, 0, 50), (40, 0, 0) }));
    }

    [Test]
    public void The_same_param_key_never_appears_twice_in_one_batch()
    {
        var entries = new[] { LogEntry.Param("a", "1"), LogEntry.Param("b", "1"), LogEntry.Param("a", "2"), LogEntry.Metric("m", 1, 1, 0) };
        Assert.That(Split(entries), Is.EqualTo(new[] { (0, 2, 0), (1, 1, 0) }));
    }

    [Test]
    public void A_tag_deletion_is_sent_alone_between_batches()
    {
        var entries = new[] { LogEntry.Tag("a", "1"), LogEntry.DeleteTag("a"), LogEntry.Tag("a", "2") };
        var keys = new HashSet<string>();
        Assert.That(BatchBuilder.NextBatchEnd(entries, 0, 1000, keys), Is.EqualTo(1));
        Assert.That(BatchBuilder.NextBatchEnd(entries, 1, 1000, keys), Is.EqualTo(2));
        Assert.That(BatchBuilder.NextBatchEnd(entries, 2, 1000, keys), Is.EqualTo(3));
    }

    [Test]
    public void MaxBatchEntries_below_the_server_limit_is_honoured()
    {
        var entries = Enumerable.Range(0, 25).Select(i => LogEntry.Metric("m", i, 1, i)).ToArray();
        Assert.That(Split(entries, maxEntries: 10), Is.EqualTo(new[] { (10, 0, 0), (10, 0, 0), (5, 0, 0) }));
    }
}
