using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>Every unsafe name must throw and leave nothing outside the root (checked on every OS, so stores stay portable).</summary>
internal sealed class PathSafetyTests : FileStoreTestBase
{
    private static readonly string[] BadKeys =
    [
        "../escape", "a/../../escape", "/abs", "a//b", "a/./b", "..", ".", "a/", "", "..a", "...x", "..a/b", "./a", "a/..", "a/.",
        "con", "NUL", "aux.txt", "com1", "LPT9.log", "a/prn",
        "trail.", "trail ", "a/b.", " ", "a\\b", "c:x", "C:", "a\0b", "a\nb", new string('é', 200), // 400 UTF-8 bytes, 200 code points
        new string('x', 251), "x\uD800", "a*b", "a:b",
    ];

    private static IEnumerable<TestCaseData> Keys() => BadKeys.Select(k => new TestCaseData(k).SetArgDisplayNames(Display(k)));

    private static string Display(string k) => k.Length > 20 ? k[..10] + "…" + k.Length : k.Replace("\0", "\\0", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    [TestCaseSource(nameof(Keys))]
    public async Task Bad_metric_param_and_tag_keys_throw_and_write_nothing_outside(string key)
    {
        var (_, run) = await NewRunAsync();
        var id = run.Info.RunId;
        var ex = Assert.ThrowsAsync<MlflowValidationException>(() => Store.LogBatchAsync(id, [new Metric(key, 1, 1)], [], [], None));
        Assert.That(ex!.Subject, Is.EqualTo("metric key"));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.LogBatchAsync(id, [], [new Param(key, "v")], [], None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.LogBatchAsync(id, [], [], [new Tag(key, "v")], None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.GetMetricHistoryAsync(id, key, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.DeleteTagAsync(id, key, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.CreateRunAsync("0", null, 1, [new Tag(key, "v")], null, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.CreateExperimentAsync("e" + Guid.NewGuid(), null, [new Tag(key, "v")], None));
        Assert.That(EntriesOutsideRoot(), Is.Empty);
        var runDir = Path.Combine(Root, run.Info.ExperimentId, id);
        Assert.That(StoredKeys(runDir, "metrics"), Is.Empty, "no metric file written inside the run either");
        Assert.That(StoredKeys(runDir, "params"), Is.Empty);
        Assert.That(StoredKeys(runDir, "tags").Where(k => !k.StartsWith("mlflow.", StringComparison.Ordinal)), Is.Empty);
    }

    [TestCase("../x.txt")]
    [TestCase("a/../../x.txt")]
    [TestCase("/etc/passwd")]
    [TestCase("C:/x.txt")]
    [TestCase("a\\..\\..\\x.txt")]
    [TestCase("nul.txt")]
    [TestCase("dir./x")]
    [TestCase("a//b")]
    [TestCase("a/")]
    [TestCase("x\u0001y")]
    public async Task Bad_artifact_paths_throw_and_write_nothing_outside(string path)
    {
        var (_, run) = await NewRunAsync();
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.LogArtifactAsync(run.Info.RunId, path, new MemoryStream([1]), None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.ListArtifactsAsync(run.Info.RunId, path, None));
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }

    [TestCase("../mlruns2")]
    [TestCase("..")]
    [TestCase("a/b")]
    [TestCase(".trash")]
    [TestCase("")]
    [TestCase("x\\y")]
    public void Bad_run_and_experiment_ids_throw(string id)
    {
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.GetRunAsync(id, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.LogBatchAsync(id, [new Metric("m", 1, 1)], [], [], None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.GetExperimentAsync(id, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.CreateRunAsync(id, null, 1, null, null, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.DeleteExperimentAsync(id, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [id] }, null, None));
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }

    [Test]
    public async Task Awkward_but_legal_keys_work()
    {
        var (exp, run) = await NewRunAsync();
        string[] keys = ["a b", "x.y-z_1", "日本/語", "é", "a/b/c", "x...y", "a/..b", ".x", new string('k', 250)];
        await Store.LogBatchAsync(run.Info.RunId, keys.Select(k => new Metric(k, 1, 1)).ToList(), keys.Select(k => new Param(k, k)).ToList(), [], None);
        var got = await Store.GetRunAsync(run.Info.RunId, None);
        Assert.That(got.Data.Metrics.Select(m => m.Key), Is.EquivalentTo(keys));
        Assert.That(got.Data.Params.Select(p => p.Value), Is.EquivalentTo(keys));
        Assert.That(File.Exists(Path.Combine(Root, exp, run.Info.RunId, "metrics", "a", "b", "c")), Is.True);
    }

    [Test]
    public void Experiment_names_never_become_paths()
    {
        Assert.DoesNotThrowAsync(async () =>
        {
            var id = await Store.CreateExperimentAsync("../../outside", null, null, None);
            Assert.That(Directory.Exists(Path.Combine(Root, id)), Is.True);
        });
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.CreateExperimentAsync("", null, null, None));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.CreateExperimentAsync("bad\uDC00", null, null, None));
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }

    [Test]
    public void Resolve_root_maps_uris_and_paths()
    {
        var cwd = Directory.GetCurrentDirectory();
        var saved = Environment.GetEnvironmentVariable("MLFLOW_TRACKING_DIR");
        try
        {
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_DIR", null);
            Assert.That(LocalFileStore.ResolveRoot(null), Is.EqualTo(Path.GetFullPath("./mlruns")));
            Assert.That(LocalFileStore.ResolveRoot(""), Is.EqualTo(Path.GetFullPath("./mlruns")));
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_DIR", "/tmp/tracking-dir");
            Assert.That(LocalFileStore.ResolveRoot(null), Is.EqualTo(Path.GetFullPath("/tmp/tracking-dir")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_DIR", saved);
        }

        Assert.That(LocalFileStore.ResolveRoot("file:///tmp/x/mlruns"), Is.EqualTo(Path.GetFullPath("/tmp/x/mlruns")));
        Assert.That(LocalFileStore.ResolveRoot("file:///tmp/my%20dir/"), Is.EqualTo(Path.GetFullPath("/tmp/my dir")));
        Assert.That(LocalFileStore.ResolveRoot("file://localhost/tmp/x"), Is.EqualTo(Path.GetFullPath("/tmp/x")));
        Assert.That(LocalFileStore.ResolveRoot("file:rel/runs"), Is.EqualTo(Path.Combine(cwd, "rel", "runs")));
        Assert.That(LocalFileStore.ResolveRoot("rel/runs"), Is.EqualTo(Path.Combine(cwd, "rel", "runs")));
        Assert.That(LocalFileStore.ResolveRoot("/abs/runs"), Is.EqualTo(Path.GetFullPath("/abs/runs")));
        foreach (var bad in new[] { "http://localhost:5000", "https://x", "sqlite:///mlflow.db", "databricks", "databricks://profile", "postgresql://u@h/db", "file://remotehost/x" })
        {
            var ex = Assert.Throws<ArgumentException>(() => LocalFileStore.ResolveRoot(bad), bad);
            Assert.That(ex!.Message, Does.Contain("local").Or.Contain("host").Or.Contain("Databricks"), bad);
        }
    }

    [Test]
    public void File_uri_matches_python_as_uri()
    {
        Assert.That(FileStorePaths.ToFileUri("/tmp/x/mlruns"), Is.EqualTo("file:///tmp/x/mlruns"));
        Assert.That(FileStorePaths.ToFileUri("/tmp/my dir/é+#"), Is.EqualTo("file:///tmp/my%20dir/%C3%A9%2B%23"));
        Assert.That(FileStorePaths.FromFileUri("file:///tmp/my%20dir/%C3%A9%2B%23"), Is.EqualTo("/tmp/my dir/é+#"));
    }
}
