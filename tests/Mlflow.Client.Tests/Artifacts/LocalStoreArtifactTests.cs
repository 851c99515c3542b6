using System.Text;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>A tracker on a local store (no server): artifacts land in the run's <c>artifacts</c> folder, as MLflow's FileStore lays them out.</summary>
internal sealed class LocalStoreArtifactTests
{
    private OfflineFallbackTests.Dir _dir = null!;
    private string _input = "";

    [SetUp]
    public void SetUp()
    {
        _dir = new OfflineFallbackTests.Dir();
        _input = Path.Combine(_dir.Path, "input");
        Directory.CreateDirectory(Path.Combine(_input, "sub", "deeper"));
        File.WriteAllText(Path.Combine(_input, "a.txt"), "alpha");
        File.WriteAllText(Path.Combine(_input, "sub", "b.csv"), "x,y\n1,2\n");
        File.WriteAllBytes(Path.Combine(_input, "sub", "deeper", "c.bin"), [0, 1, 2, 255]);
    }

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private MlflowTracker Tracker() => MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = Path.Combine(_dir.Path, "mlruns"), ExperimentName = "art" });

    private string ArtifactDir(ActiveRun run) => Path.Combine(_dir.Path, "mlruns", run.ExperimentId, run.RunId, "artifacts");

    [Test]
    public async Task Every_kind_lands_in_the_runs_artifacts_folder_and_reads_back()
    {
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        await run.LogArtifactAsync(Path.Combine(_input, "a.txt"));
        run.LogArtifact(Path.Combine(_input, "sub", "b.csv"), "tables/raw");
        await run.LogArtifactsAsync(_input, "all");
        run.LogText("héllo\nworld", "notes/summary.txt");
        run.LogDict(new Dictionary<string, object?> { ["lr"] = 0.01, ["layers"] = new[] { 64, 32 } }, "config.json");
        run.LogDict(new { b = 1, a = "x" }, "params.yaml");
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        run.LogImage(png, "plots/cm.png");
        using (var ms = new MemoryStream(png))
        {
            await run.LogImageAsync(ms, "plots/cm2.png");
            Assert.That(ms.CanRead, Is.True, "the caller's stream is not disposed");
        }

        var root = ArtifactDir(run);
        Assert.That(File.ReadAllText(Path.Combine(root, "a.txt")), Is.EqualTo("alpha"));
        Assert.That(File.ReadAllText(Path.Combine(root, "tables", "raw", "b.csv")), Is.EqualTo("x,y\n1,2\n"));
        Assert.That(File.ReadAllBytes(Path.Combine(root, "all", "sub", "deeper", "c.bin")), Is.EqualTo(new byte[] { 0, 1, 2, 255 }));
        Assert.That(File.ReadAllBytes(Path.Combine(root, "notes", "summary.txt")), Is.EqualTo(Encoding.UTF8.GetBytes("héllo\nworld")), "UTF-8 without BOM");
        Assert.That(File.ReadAllText(Path.Combine(root, "config.json")), Is.EqualTo("{\n  \"lr\": 0.01,\n  \"layers\": [\n    64,\n    32\n  ]\n}"));
        Assert.That(File.ReadAllText(Path.Combine(root, "params.yaml")), Is.EqualTo("a: x\nb: 1\n"));
        Assert.That(File.ReadAllBytes(Path.Combine(root, "plots", "cm2.png")), Is.EqualTo(png));
        Assert.That(Directory.EnumerateFiles(root, ".tmp-*", SearchOption.AllDirectories), Is.Empty, "no temporary file is left");

        Assert.That(run.ListArtifacts().Select(a => (a.Path, a.IsDir)), Is.EqualTo(new[]
        {
            ("a.txt", false), ("all", true), ("config.json", false), ("notes", true), ("params.yaml", false), ("plots", true), ("tables", true),
        }));
        Assert.That((await run.ListArtifactsAsync("all/sub")).Select(a => a.Path), Is.EqualTo(new[] { "all/sub/b.csv", "all/sub/deeper" }));
        Assert.That(run.LoadText("notes/summary.txt"), Is.EqualTo("héllo\nworld"));
        Assert.That((double)run.LoadDict("config.json")["lr"]!, Is.EqualTo(0.01));

        var download = Path.Combine(_dir.Path, "download");
        Assert.That(run.DownloadArtifacts("all", download), Is.EqualTo(Path.Combine(download, "all")));
        Assert.That(File.ReadAllBytes(Path.Combine(download, "all", "sub", "deeper", "c.bin")), Is.EqualTo(new byte[] { 0, 1, 2, 255 }));
        Assert.That(run.DownloadArtifacts("a.txt", download), Is.EqualTo(Path.Combine(download, "a.txt")));
        Assert.That(File.ReadAllText(Path.Combine(download, "a.txt")), Is.EqualTo("alpha"));
        await run.DisposeAsync();
        Assert.That(run.ListArtifacts(), Has.Count.EqualTo(7), "readable after the run ended");
        Assert.Throws<InvalidOperationException>(() => run.LogText("late", "late.txt"));
    }

    [TestCase("../escape.txt", "'..'")]
    [TestCase("a/../../escape.txt", "'..'")]
    [TestCase("/etc/escape.txt", "absolute")]
    [TestCase("C:/escape.txt", "drive letter")]
    [TestCase("a\\escape.txt", "backslash")]
    [TestCase("a#b.txt", "'#'")]
    [TestCase("a/./b.txt", "'.'")]
    [TestCase("aux.txt", "device name")]
    [TestCase("ab:c.txt", "':'")]
    public async Task A_path_leaving_the_root_or_refused_by_MLflow_throws_naming_the_path_and_rule_and_writes_nothing(string path, string rule)
    {
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var ex = Assert.Throws<MlflowValidationException>(() => run.LogText("x", path))!;
        Assert.That(ex.Message, Does.Contain(path).And.Contain(rule));
        Assert.Throws<MlflowValidationException>(() => run.LogArtifact(Path.Combine(_input, "a.txt"), path));
        Assert.That(Directory.Exists(ArtifactDir(run)) ? Directory.EnumerateFileSystemEntries(ArtifactDir(run), "*", SearchOption.AllDirectories) : [], Is.Empty);
        Assert.That(Directory.EnumerateFiles(_dir.Path, "escape.txt", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public async Task A_folder_with_one_bad_name_writes_none_of_its_files()
    {
        File.WriteAllText(Path.Combine(_input, "sub", "nul.txt"), "device name on Windows");
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var ex = Assert.Throws<MlflowValidationException>(() => run.LogArtifacts(_input))!;
        Assert.That(ex.Message, Does.Contain("sub/nul.txt"));
        Assert.That(Directory.Exists(ArtifactDir(run)) ? Directory.EnumerateFiles(ArtifactDir(run), "*", SearchOption.AllDirectories) : [], Is.Empty);
    }

    [Test]
    public async Task Missing_inputs_throw_naming_them()
    {
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var missing = Path.Combine(_input, "missing.txt");
        Assert.That(Assert.Throws<FileNotFoundException>(() => run.LogArtifact(missing))!.Message, Does.Contain(missing));
        Assert.That(Assert.Throws<DirectoryNotFoundException>(() => run.LogArtifacts(missing))!.Message, Does.Contain(missing));
        Assert.That(Assert.Throws<ArgumentException>(() => run.LogImage([1, 2, 3], "x.png"))!.Message, Does.Contain("x.png").And.Contain("PNG"));
        Assert.Throws<FileNotFoundException>(() => run.LoadText("nothing.txt"));
    }
}
