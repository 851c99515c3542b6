using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.FileStore;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.RealServer;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// Opt-in: every artifact kind logged through <see cref="ActiveRun"/>, then listed and read by MLflow's own Python
/// client (<c>list_artifacts</c>, <c>download_artifacts</c>, <c>load_text</c>, <c>load_dict</c>): against the real
/// server of <c>MLFLOW_TEST_TRACKING_URI</c> (artifacts through its proxy), and on a local store read by MLflow's FileStore.
/// Needs <c>MLFLOW_SRC</c>/<c>MLFLOW_SHIMS</c> for the Python side.
/// </summary>
[Category("RealServer")]
internal sealed class ArtifactsRealServerTests
{
    private const string Texts = "notes/summary.txt";
    private const string Dicts = "config.json,params.yaml";

    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];

    private OfflineFallbackTests.Dir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new OfflineFallbackTests.Dir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public async Task Every_kind_through_the_servers_proxy_is_listed_and_read_by_mlflow()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        RealMlflowReadTests.RequireMlflow();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions
        {
            TrackingUri = uri,
            ExperimentName = "artifacts-" + Guid.NewGuid().ToString("N")[..8],
            Offline = new MlflowOfflineOptions { Directory = Path.Combine(_dir.Path, "offline") },
        });
        var (runId, expected) = await LogEverythingAsync(tracker);
        AssertMlflowReads(uri, runId, expected);
        Assert.That(Directory.Exists(Path.Combine(_dir.Path, "offline")), Is.False, "nothing was kept offline");
    }

    [Test]
    public async Task Every_kind_in_a_local_store_is_listed_and_read_by_mlflows_FileStore()
    {
        RealMlflowReadTests.RequireMlflow();
        var root = Path.Combine(_dir.Path, "mlruns");
        string runId;
        Dictionary<string, string> expected;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = root, ExperimentName = "artifacts" }))
        {
            (runId, expected) = await LogEverythingAsync(tracker);
        }

        AssertMlflowReads(root, runId, expected);
    }

    /// <summary>Logs one of each kind, reads them back through <see cref="ActiveRun"/>; returns the run id and the SHA-256 of every file.</summary>
    private async Task<(string RunId, Dictionary<string, string> Hashes)> LogEverythingAsync(MlflowTracker tracker)
    {
        var input = Path.Combine(_dir.Path, "input");
        Directory.CreateDirectory(Path.Combine(input, "report", "img dir"));
        var weights = Path.Combine(input, "weights.bin");
        await File.WriteAllBytesAsync(weights, Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31 >> 3)).ToArray());
        await File.WriteAllTextAsync(Path.Combine(input, "report", "index.html"), "<h1>report</h1>");
        await File.WriteAllTextAsync(Path.Combine(input, "report", "img dir", "é.txt"), "unicode name");

        var run = await tracker.StartRunAsync("artifacts");
        await run.LogArtifactAsync(weights, "model");
        await run.LogArtifactsAsync(Path.Combine(input, "report"), "report");
        await run.LogTextAsync("line one\nligne deux é\n", Texts);
        await run.LogDictAsync(new Dictionary<string, object?>
        {
            ["name"] = "résumé", ["lr"] = 0.001, ["big"] = 1e16, ["layers"] = new[] { 64, 32 },
            ["nested"] = new Dictionary<string, object?> { ["flag"] = true, ["none"] = null },
        }, "config.json");
        await run.LogDictAsync(new { epochs = 10, optimizer = new { name = "adam", betas = new[] { 0.9, 0.999 } }, tags = new[] { "a", "b: c" } }, "params.yaml");
        await run.LogImageAsync(Png, "plots/confusion.png");

        var ours = new Dictionary<string, string>(StringComparer.Ordinal);
        var download = Path.Combine(_dir.Path, "download");
        await run.DownloadArtifactsAsync(null, download);
        foreach (var file in Directory.EnumerateFiles(download, "*", SearchOption.AllDirectories))
        {
            ours[Path.GetRelativePath(download, file).Replace(Path.DirectorySeparatorChar, '/')] = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(file)));
        }

        Assert.That(ours["model/weights.bin"], Is.EqualTo(Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(weights)))));
        Assert.That(ours.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[]
        {
            "config.json", "model/weights.bin", Texts, "params.yaml", "plots/confusion.png", "report/img dir/é.txt", "report/index.html",
        }));
        Assert.That(await run.LoadTextAsync(Texts), Is.EqualTo("line one\nligne deux é\n"));
        Assert.That((string)(await run.LoadDictAsync("config.json"))["name"]!, Is.EqualTo("résumé"));
        await run.DisposeAsync();
        return (run.RunId, ours);
    }

    private static void AssertMlflowReads(string trackingUri, string runId, Dictionary<string, string> expected)
    {
        var script = Path.Combine(Infrastructure.RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Artifacts", "read_artifacts_with_mlflow.py");
        var (code, stdout, stderr) = RealMlflowReadTests.Python($"\"{script}\" \"{trackingUri}\" {runId} \"{Texts}\" \"{Dicts}\"");
        Assert.That(code, Is.Zero, stderr);
        var seen = JsonNode.Parse(stdout)!;
        var hashes = seen["hashes"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        Assert.That(hashes, Is.EqualTo(expected), "MLflow lists and downloads every file with our bytes");
        Assert.That((long)seen["files"]!["model/weights.bin"]!, Is.EqualTo(3_000_000));
        Assert.That((string)seen["texts"]![Texts]!, Is.EqualTo("line one\nligne deux é\n"));
        var config = seen["dicts"]!["config.json"]!;
        Assert.That((string)config["name"]!, Is.EqualTo("résumé"));
        Assert.That((double)config["lr"]!, Is.EqualTo(0.001));
        Assert.That((double)config["big"]!, Is.EqualTo(1e16));
        Assert.That(config["layers"]!.AsArray().Select(n => (int)n!), Is.EqualTo(new[] { 64, 32 }));
        Assert.That((bool)config["nested"]!["flag"]!, Is.True);
        Assert.That(config["nested"]!.AsObject().ContainsKey("none") && config["nested"]!["none"] is null, Is.True);
        var yaml = seen["dicts"]!["params.yaml"]!;
        Assert.That((int)yaml["epochs"]!, Is.EqualTo(10));
        Assert.That((string)yaml["optimizer"]!["name"]!, Is.EqualTo("adam"));
        Assert.That(yaml["optimizer"]!["betas"]!.AsArray().Select(n => (double)n!), Is.EqualTo(new[] { 0.9, 0.999 }));
        Assert.That(yaml["tags"]!.AsArray().Select(n => (string)n!), Is.EqualTo(new[] { "a", "b: c" }));
    }
}
