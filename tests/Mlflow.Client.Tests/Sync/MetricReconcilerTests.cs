using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// <see cref="MetricReconciler.Missing"/> with the history MLflow 3.11.1's file store gives for a point logged with a
/// dataset: the five-word line "ts value step name digest" is read back with step 0.
/// </summary>
[TestFixture]
internal sealed class MetricReconcilerTests
{
    private static readonly Metric Local = new("auc", 0.9, 1_765_000_000_000, 4) { DatasetName = "eval-set", DatasetDigest = "abcd1234" };

    [Test]
    public void A_server_point_with_a_dataset_read_back_at_step_0_stands_for_the_local_point_at_its_step()
    {
        var history = new[] { new Metric("auc", 0.9, 1_765_000_000_000, 0) { DatasetName = "eval-set", DatasetDigest = "abcd1234" } };

        Assert.That(MetricReconciler.Missing([Local], 0, 1, history, deduplicating: false), Is.Empty);
        Assert.That(MetricReconciler.Missing([Local, Local], 0, 2, history, deduplicating: false), Is.EqualTo(new[] { Local }), "one copy is there, the other is not");
        Assert.That(MetricReconciler.Missing([Local], 0, 1, [], deduplicating: false), Is.EqualTo(new[] { Local }));
    }

    [Test]
    public void A_server_point_at_step_0_without_a_dataset_is_a_step_0_point()
    {
        var history = new[] { new Metric("auc", 0.9, 1_765_000_000_000, 0) };

        Assert.That(MetricReconciler.Missing([Local], 0, 1, history, deduplicating: false), Is.EqualTo(new[] { Local }));
    }

    [Test]
    public void A_server_that_keeps_the_step_is_compared_exactly()
    {
        var history = new[] { new Metric("auc", 0.9, 1_765_000_000_000, 4) { DatasetName = "eval-set" } };
        var other = Local with { Step = 5, Timestamp = Local.Timestamp + 1 };

        Assert.That(MetricReconciler.Missing([Local, other], 0, 2, history, deduplicating: true), Is.EqualTo(new[] { other }));
    }
}
