using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// The store tree holds only what MLflow's FileStore writes: after a session through the tracker and the store, the
/// store root, an experiment folder and <c>.trash</c> hold the same kinds of entries as <c>filestore-example/</c>, a
/// tree MLflow's Python client wrote (no lock file, journal or temp file of ours).
/// </summary>
internal sealed class StoreRootParityTests : FileStoreTestBase
{
    private const string ExampleExperiment = "734897640822971021";

    [Test]
    public async Task A_tracker_and_store_session_leaves_only_what_mlflow_writes()
    {
        var options = new MlflowTrackerOptions { TrackingUri = new Uri(Root).AbsoluteUri, ExperimentName = "parity" };
        await using (var tracker = MlflowTracker.Create(options))
        {
            await using var run = await tracker.StartRunAsync("parent");
            run.LogParam("lr", 0.1);
            run.LogMetric("loss", 0.5, step: 0);
            run.SetTag("stage", "dev");
            using var child = run.StartChildRun("child");
            child.LogMetric("fold_loss", 0.25, step: 0);
        }

        // Every experiment call that takes the store's lock: create, delete, restore; and an experiment tag.
        var experimentId = (await Store.GetExperimentByNameAsync("parity", None))!.ExperimentId;
        await Store.SetExperimentTagAsync(experimentId, "team", "dotnet", None);
        var deleted = await Store.CreateExperimentAsync("deleted", null, null, None);
        await Store.DeleteExperimentAsync(deleted, None);
        var restored = await Store.CreateExperimentAsync("restored", null, null, None);
        await Store.DeleteExperimentAsync(restored, None);
        await Store.RestoreExperimentAsync(restored, None);

        Assert.That(EntryKinds(Root), Is.EqualTo(EntryKinds(MlflowExample)), "the store root");
        Assert.That(EntryKinds(Path.Combine(Root, experimentId)), Is.EqualTo(EntryKinds(Path.Combine(MlflowExample, ExampleExperiment))), "an experiment folder");
        Assert.That(EntryKinds(Path.Combine(Root, ".trash")), Is.EqualTo(EntryKinds(Path.Combine(MlflowExample, ".trash"))), "the trash");
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }
}
