using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>A tracker on a (WireMock) tracking server: artifacts go where the run's artifact root says.</summary>
internal sealed class ServerArtifactTests
{
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private const string ProxyRoot = "mlflow-artifacts:/0/" + RunId + "/artifacts";
    private const string ProxyPath = "/api/2.0/mlflow-artifacts/artifacts/0/" + RunId + "/artifacts";

    private OfflineFallbackTests.Dir _dir = null!;
    private FixtureServer _server = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(_dir.Path);
        _server = FixtureServer.Start();
    }

    [TearDown]
    public void TearDown()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    /// <summary>Answers the tracking calls a run makes, its artifact root being <paramref name="artifactUri"/>, and every artifact upload with 200.</summary>
    private void ServeRun(string artifactUri)
    {
        var info = new JsonObject
        {
            ["run_id"] = RunId, ["run_uuid"] = RunId, ["experiment_id"] = "0", ["run_name"] = "r", ["status"] = "RUNNING",
            ["start_time"] = 1, ["artifact_uri"] = artifactUri, ["lifecycle_stage"] = "active",
        };
        var run = new JsonObject { ["run"] = new JsonObject { ["info"] = info, ["data"] = new JsonObject() } }.ToJsonString();
        var experiment = new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = "0", ["name"] = "Default", ["lifecycle_stage"] = "active" } }.ToJsonString();
        Json("/api/2.0/mlflow/runs/create", "POST", run);
        Json("/api/2.0/mlflow/runs/get", "GET", run);
        Json("/api/2.0/mlflow/runs/update", "POST", new JsonObject { ["run_info"] = info.DeepClone() }.ToJsonString());
        Json("/api/2.0/mlflow/runs/log-batch", "POST", "{}");
        Json("/api/2.0/mlflow/runs/search", "POST", "{}"); // the lookup of a creation whose answer came late (a busy machine): not there
        Json("/api/2.0/mlflow/experiments/get", "GET", experiment);
        _server.Server.Given(Request.Create().WithPath(p => p.StartsWith(ProxyPath + "/", StringComparison.Ordinal)).UsingPut())
            .AtPriority(10).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
    }

    private void Json(string path, string method, string body)
        => _server.Server.Given(Request.Create().WithPath(path).UsingMethod(method))
            .AtPriority(10).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

    /// <summary>A tracker on the fixture server, with time for answers on a busy machine (these tests are about artifacts, not timeouts).</summary>
    private MlflowTracker Tracker() => MlflowTracker.Create(OfflineFallbackTests.Options(_server.Url, Path.Combine(_dir.Path, "offline"), o =>
    {
        o.ExperimentName = null;
        o.Client!.RequestTimeout = TimeSpan.FromSeconds(60);
        o.Offline!.OfflineAfter = TimeSpan.FromSeconds(120);
    }));

    private List<WireMock.Logging.ILogEntry> Puts() => _server.Requests.Where(r => r.RequestMessage.Method == "PUT").ToList();

    [Test]
    public async Task Proxy_root_each_file_is_one_streamed_PUT_to_its_path_with_its_bytes()
    {
        ServeRun(ProxyRoot);
        var file = Path.Combine(_dir.Path, "weights.bin");
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(file, bytes);
        var folder = Path.Combine(_dir.Path, "report");
        Directory.CreateDirectory(Path.Combine(folder, "sub dir"));
        File.WriteAllText(Path.Combine(folder, "index.html"), "<p>hi</p>");
        File.WriteAllText(Path.Combine(folder, "sub dir", "é.txt"), "uni");

        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        await run.LogArtifactAsync(file, "model");
        Assert.That(Puts(), Has.Count.EqualTo(1));
        var put = Puts()[0].RequestMessage;
        Assert.That(put.Path, Is.EqualTo(ProxyPath + "/model/weights.bin"));
        Assert.That(put.BodyAsBytes, Is.EqualTo(bytes));
        Assert.That(put.Headers!["Content-Length"].Single(), Is.EqualTo(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), "sent from the file with its length, not buffered and chunked");
        Assert.That(put.Headers!["Content-Type"].Single(), Is.EqualTo("application/octet-stream"));

        await run.LogArtifactsAsync(folder, "html");
        run.LogDict(new SortedDictionary<string, int> { ["b"] = 2, ["a"] = 1 }, "d/params.yml");
        var puts = Puts().Skip(1).ToList();
        Assert.That(puts.Select(p => p.RequestMessage.Path), Is.EqualTo(new[]
        {
            ProxyPath + "/html/index.html", ProxyPath + "/html/sub dir/é.txt", ProxyPath + "/d/params.yml",
        }));
        Assert.That(puts[0].RequestMessage.Body, Is.EqualTo("<p>hi</p>"));
        Assert.That(puts[2].RequestMessage.Body, Is.EqualTo("a: 1\nb: 2\n"));
        Assert.That(_server.Requests.Count(r => r.RequestMessage.Path == "/api/2.0/mlflow/runs/get"), Is.EqualTo(1), "the artifact root is read once per run");
        await run.DisposeAsync();
        Assert.That(Directory.Exists(Path.Combine(_dir.Path, "offline")), Is.False, "nothing was kept offline");
    }

    [Test]
    public async Task Proxy_root_lists_downloads_a_folder_and_reads_text_and_dicts_back()
    {
        ServeRun(ProxyRoot);
        Json("/api/2.0/mlflow-artifacts/artifacts", "GET", """{"files":[{"path":"a.txt","is_dir":false,"file_size":5},{"path":"sub","is_dir":true}]}""");
        _server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts").WithParam("path", "0/" + RunId + "/artifacts/sub").UsingGet())
            .AtPriority(1).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"files":[{"path":"c.json","is_dir":false,"file_size":12}]}"""));
        _server.Server.Given(Request.Create().WithPath(ProxyPath + "/a.txt").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("alpha"));
        _server.Server.Given(Request.Create().WithPath(ProxyPath + "/sub/c.json").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{\"k\": [1, 2]}"));

        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var listed = await run.ListArtifactsAsync();
        Assert.That(listed.Select(a => (a.Path, a.IsDir, a.FileSize)), Is.EqualTo(new[] { ("a.txt", false, (long?)5), ("sub", true, (long?)null) }));
        Assert.That((await run.ListArtifactsAsync("sub")).Single().Path, Is.EqualTo("sub/c.json"));

        var target = Path.Combine(_dir.Path, "down");
        Assert.That(await run.DownloadArtifactsAsync(null, target), Is.EqualTo(target));
        Assert.That(File.ReadAllText(Path.Combine(target, "a.txt")), Is.EqualTo("alpha"));
        Assert.That(File.ReadAllText(Path.Combine(target, "sub", "c.json")), Is.EqualTo("{\"k\": [1, 2]}"));
        Assert.That(run.LoadText("a.txt"), Is.EqualTo("alpha"));
        Assert.That(run.LoadDict("sub/c.json")["k"]!.AsArray().Select(n => (int)n!), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task A_listing_that_would_leave_the_download_folder_is_refused()
    {
        ServeRun(ProxyRoot);
        Json("/api/2.0/mlflow-artifacts/artifacts", "GET", """{"files":[{"path":"../../evil.txt","is_dir":false,"file_size":1}]}""");
        _server.Server.Given(Request.Create().WithPath(p => p.EndsWith("evil.txt", StringComparison.Ordinal)).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("x"));
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var target = Path.Combine(_dir.Path, "a", "b");
        var ex = Assert.ThrowsAsync<MlflowValidationException>(() => run.DownloadArtifactsAsync(null, target))!;
        Assert.That(ex.Message, Does.Contain("../../evil.txt").And.Contain(".."));
        Assert.That(Directory.EnumerateFiles(_dir.Path, "evil.txt", SearchOption.AllDirectories), Is.Empty);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Local_path_root_on_this_machine_is_written_directly_without_any_upload(bool fileUri)
    {
        var root = Path.Combine(_dir.Path, "server-mlruns", "0", RunId, "artifacts");
        ServeRun(fileUri ? new Uri(root).AbsoluteUri : root);
        var file = Path.Combine(_dir.Path, "f.txt");
        File.WriteAllText(file, "content");
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        run.LogArtifact(file, "x");
        run.LogText("t", "t.txt");
        Assert.That(File.ReadAllText(Path.Combine(root, "x", "f.txt")), Is.EqualTo("content"));
        Assert.That(File.ReadAllText(Path.Combine(root, "t.txt")), Is.EqualTo("t"));
        Assert.That(Puts(), Is.Empty);
        Assert.That(run.ListArtifacts().Select(a => a.Path), Is.EqualTo(new[] { "t.txt", "x" }));
        Assert.That(run.LoadText("x/f.txt"), Is.EqualTo("content"));
    }

    [TestCase("s3://bucket/0/r/artifacts", "s3")]
    [TestCase("gs://bucket/0/r/artifacts", "gs")]
    [TestCase("wasbs://c@acct.blob.core.windows.net/0/r/artifacts", "wasbs")]
    [TestCase("dbfs:/databricks/mlflow/0/r/artifacts", "dbfs")]
    public async Task Another_scheme_throws_NotSupported_naming_it_and_the_proxy_and_keeps_nothing_offline(string root, string scheme)
    {
        ServeRun(root);
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var ex = Assert.ThrowsAsync<NotSupportedException>(() => run.LogTextAsync("x", "x.txt"))!;
        Assert.That(ex.Message, Does.Contain($"'{scheme}:'").And.Contain("--serve-artifacts"));
        Assert.That(ex.Message, Does.Not.Contain("acct"), "the location itself (which may name an account) is not repeated");
        Assert.That(Puts(), Is.Empty);
        Assert.That(run.IsOffline, Is.False);
        Assert.That(Directory.Exists(Path.Combine(_dir.Path, "offline")), Is.False);
    }

    [Test]
    public async Task A_refusal_from_the_proxy_is_thrown_not_kept_offline()
    {
        ServeRun(ProxyRoot);
        _server.Server.Given(Request.Create().WithPath(ProxyPath + "/x.txt").UsingPut()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid path"}"""));
        await using var tracker = Tracker();
        var run = await tracker.StartRunAsync("r");
        var ex = Assert.ThrowsAsync<MlflowException>(() => run.LogTextAsync("x", "x.txt"))!;
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(run.IsOffline, Is.False);
        Assert.That(Encoding.UTF8.GetString(Puts().Single().RequestMessage.BodyAsBytes!), Is.EqualTo("x"));
    }
}
