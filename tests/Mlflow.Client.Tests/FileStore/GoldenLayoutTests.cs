using System.Text.RegularExpressions;
using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Scripts the parent run of <c>filestore-example/</c> (experiment 734897640822971021, run a0978473…) and compares
/// the produced tree with the MLflow-written one: same relative files (modulo ids), same bytes for data files, and
/// meta.yaml files with the same keys in the same order and the same value shapes.
/// </summary>
internal sealed class GoldenLayoutTests : FileStoreTestBase
{
    private const string ExampleExperiment = "734897640822971021";
    private const string ExampleRun = "a097847385f74694935065ea00412ddc";

    [Test]
    public async Task Parent_run_matches_the_mlflow_written_example()
    {
        var example = MlflowExample;
        var exp = await Store.CreateExperimentAsync("filestore-demo", null, [new Tag("team", "dotnet")], None);
        var run = await Store.CreateRunAsync(exp, "parent-run", 1795847550064,
            [new Tag("mlflow.user", "root"), new Tag("mlflow.source.name", "make_filestore_example.py"), new Tag("mlflow.source.type", "LOCAL")], "root", None);
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id, [], [new Param("learning_rate", "5e-05"), new Param("batch_size", "32"), new Param("optimizer", "adam")], [], None);
        for (var step = 0; step < 3; step++)
        {
            await Store.LogBatchAsync(id,
            [
                new Metric("loss", new[] { 1.0, 0.5, 1.0 / 3.0 }[step], 1700000000000 + step, step),
                new Metric("accuracy", new[] { 0.5, 0.6, 0.7 }[step], 1700000000000 + step, step),
            ], [], [], None);
        }

        var retried = new Metric("retried", 0.42, 1700000000100, 0);
        await Store.LogBatchAsync(id, [retried], [], [], None);
        await Store.LogBatchAsync(id, [retried], [], [], None);
        await Store.LogBatchAsync(id,
        [
            new Metric("nonfinite", double.NaN, 1700000000200, 0), new Metric("nonfinite", double.PositiveInfinity, 1700000000201, 1),
            new Metric("nonfinite", double.NegativeInfinity, 1700000000202, 2), new Metric("nested/metric", 1.0, 1700000000300, 0),
        ], [], [], None);
        await Store.LogBatchAsync(id, [], [],
        [
            new Tag("model_family", "bert"), new Tag("stage", "dev"), new Tag("nested/key", "tags with slashes become sub-folders"),
            new Tag("multi.line", "line one\nline two"),
        ], None);
        await Store.LogArtifactAsync(id, "reports/summary.txt", new MemoryStream("hello from the parent run\n"u8.ToArray()), None);
        await Store.UpdateRunAsync(id, RunStatus.Finished, 1795847550126, null, None);

        var ours = Path.Combine(Root, exp, id);
        var theirs = Path.Combine(example, ExampleExperiment, ExampleRun);
        Assert.That(RelativeFiles(ours), Is.EqualTo(RelativeFiles(theirs)), "same relative file set");
        foreach (var rel in RelativeFiles(theirs).Where(r => r != "meta.yaml"))
        {
            Assert.That(File.ReadAllBytes(Path.Combine(ours, rel)), Is.EqualTo(File.ReadAllBytes(Path.Combine(theirs, rel))), rel);
        }

        CompareMeta(Path.Combine(ours, "meta.yaml"), Path.Combine(theirs, "meta.yaml"), (exp, ExampleExperiment), (id, ExampleRun));
        CompareMeta(Path.Combine(Root, exp, "meta.yaml"), Path.Combine(example, ExampleExperiment, "meta.yaml"), (exp, ExampleExperiment), (id, ExampleRun));
        CompareMeta(Path.Combine(Root, "0", "meta.yaml"), Path.Combine(example, "0", "meta.yaml"), (exp, ExampleExperiment), (id, ExampleRun));
        Assert.That(RelativeFiles(Path.Combine(Root, exp, "tags")), Is.EqualTo(RelativeFiles(Path.Combine(example, ExampleExperiment, "tags"))));
        Assert.That(File.ReadAllBytes(Path.Combine(Root, exp, "tags", "team")), Is.EqualTo(File.ReadAllBytes(Path.Combine(example, ExampleExperiment, "tags", "team"))));

        // The deleted-experiment form in .trash.
        var deleted = await Store.CreateExperimentAsync("deleted-experiment", null, null, None);
        await Store.DeleteExperimentAsync(deleted, None);
        var trashExample = Directory.GetDirectories(Path.Combine(example, ".trash")).Single();
        CompareMeta(Path.Combine(Root, ".trash", deleted, "meta.yaml"), Path.Combine(trashExample, "meta.yaml"), (deleted, Path.GetFileName(trashExample)), (id, ExampleRun));
    }

    [Test]
    public async Task Reads_the_mlflow_written_example()
    {
        var copy = Path.Combine(Parent, "example");
        CopyTree(MlflowExample, copy);
        using var store = new LocalFileStore(copy);
        var exp = await store.GetExperimentAsync(ExampleExperiment, None);
        Assert.That(exp.Name, Is.EqualTo("filestore-demo"));
        Assert.That(exp.Tags, Is.EqualTo(new[] { new Tag("team", "dotnet") }));
        var run = await store.GetRunAsync(ExampleRun, None);
        Assert.That(run.Info.RunName, Is.EqualTo("parent-run"));
        Assert.That(run.Info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(run.Info.EndTime, Is.EqualTo(1795847550126));
        Assert.That(run.Data.Params, Has.Count.EqualTo(3));
        Assert.That(run.Data.Metrics.Single(m => m.Key == "loss").Value, Is.EqualTo(1.0 / 3.0));
        Assert.That(run.Data.Metrics.Single(m => m.Key == "nonfinite").Value, Is.EqualTo(double.NegativeInfinity));
        Assert.That(await store.GetMetricHistoryAsync(ExampleRun, "retried", None), Has.Count.EqualTo(2));
        var all = await store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [ExampleExperiment], ViewType = ViewType.All }, null, None);
        Assert.That(all.Items.Select(r => r.Info.RunName), Is.EquivalentTo(new[] { "parent-run", "child-run", "deleted-run", "failed-run" }));
        var active = await store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [ExampleExperiment], Filter = "attributes.status = 'FAILED'" }, null, None);
        Assert.That(active.Items.Single().Info.RunName, Is.EqualTo("failed-run"));
        var deletedExp = await store.SearchExperimentsAsync(new ExperimentSearchOptions { ViewType = ViewType.DeletedOnly }, null, None);
        Assert.That(deletedExp.Items.Single().Name, Is.EqualTo("deleted-experiment"));
        // The copied store's artifact URIs point to the original location; listing uses the run's own folder.
        var artifacts = await store.ListArtifactsAsync(ExampleRun, "reports", None);
        Assert.That(artifacts, Is.EqualTo(new[] { new ArtifactFileInfo("reports/summary.txt", false, 26) }));
    }

    private static string[] RelativeFiles(string dir)
        => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal).ToArray();

    /// <summary>Same keys in the same order; each value has the same shape (ids and the root path replaced by placeholders, numbers by N).</summary>
    private void CompareMeta(string oursPath, string theirsPath, (string Ours, string Theirs) exp, (string Ours, string Theirs) run)
    {
        var ours = Shape(File.ReadAllText(oursPath).Replace(FileStorePaths.ToFileUri(Root), "file:///ROOT", StringComparison.Ordinal).Replace(exp.Ours, "EXP", StringComparison.Ordinal).Replace(run.Ours, "RUN", StringComparison.Ordinal));
        var theirs = Shape(File.ReadAllText(theirsPath).Replace("file:///tmp/x/mlruns", "file:///ROOT", StringComparison.Ordinal).Replace(exp.Theirs, "EXP", StringComparison.Ordinal).Replace(run.Theirs, "RUN", StringComparison.Ordinal));
        Assert.That(ours, Is.EqualTo(theirs), Path.GetFileName(Path.GetDirectoryName(oursPath)) + "/meta.yaml");
    }

    private static string Shape(string yaml) => Regex.Replace(yaml, @": \d{10,}\n", ": N\n");

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
