using Mlflow.Client.SyncTool;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>The <c>mlflow-sync</c> command run in-process: flags, output and exit codes.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class SyncCliTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Program.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string NewRoot() => Path.Combine(Path.GetTempPath(), "mlflow-sync-cli-tests", Guid.NewGuid().ToString("N"), "mlruns");

    [Test]
    public async Task Help_ExitsZero()
    {
        var (code, output, _) = await RunAsync("--help");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("--dry-run").And.Contain("MLFLOW_TRACKING_URI"));
    }

    [TestCase("--bogus")]
    [TestCase("--to")]
    [TestCase("--from", "")]
    [TestCase("--dry-run=yes")]
    public async Task BadUsage_ExitsTwo(params string[] args)
    {
        var (code, _, err) = await RunAsync(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("Usage"));
    }

    [Test]
    public async Task MissingStore_ExitsTwo()
    {
        var (code, _, err) = await RunAsync("--from", NewRoot(), "--to", "http://127.0.0.1:9", "--dry-run");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("does not exist"));
    }

    [TestCase("3.11.1", 0, TestName = "mlflow-sync to an MLflow 3 server reports the traces and assessments sent and exits 0")]
    [TestCase("2.12.2", 1, TestName = "mlflow-sync to an MLflow 2 server says once why the traces were skipped and exits 1")]
    public async Task Traces_are_reported_in_the_summary(string version, int exitCode)
    {
        var root = NewRoot();
        using (var store = new Mlflow.Client.FileStore.LocalFileStore(root))
        {
            var experimentId = await store.CreateExperimentAsync("cli-traces", null, null, CancellationToken.None);
            var runId = (await store.CreateRunAsync(experimentId, "r", 1, null, "me", CancellationToken.None)).Info.RunId;
            var trace = await store.LogTraceAsync(Tests.FileStore.TraceFileStoreTests.SampleTrace(experimentId, runId), Tests.FileStore.TraceFileStoreTests.SampleSpans(), CancellationToken.None);
            await store.CreateAssessmentAsync(Mlflow.Client.Tracing.Assessment.CreateFeedback(trace.TraceId, "ok", true, Mlflow.Client.Tracing.AssessmentSource.Code("c")), CancellationToken.None);
        }

        using var server = new FakeMlflowServer { Version = version };
        var (code, output, err) = await RunAsync("--from", root, "--to", server.Url);

        Assert.That(code, Is.EqualTo(exitCode), err);
        Assert.That(output, Does.Contain(exitCode == 0 ? "1 traces, 1 assessments." : "0 traces, 0 assessments (1 traces skipped)."));
        Assert.That(err.Split('\n').Count(l => l.Contains("traces skipped: traces need an MLflow 3 tracking server", StringComparison.Ordinal) && l.Contains(version, StringComparison.Ordinal)),
            Is.EqualTo(exitCode), err);
        Directory.Delete(Path.GetDirectoryName(root)!, recursive: true);
    }

    [Test]
    public async Task Sync_ThenDryRun_ExitZero_AndDryRunSendsNothing()
    {
        var root = NewRoot();
        await SyncTests.BuildStoreAsync(root);
        using var server = new FakeMlflowServer();

        var (dryCode, dryOut, _) = await RunAsync("--from", root, "--to", server.Url, "--dry-run");
        Assert.That(dryCode, Is.Zero);
        Assert.That(server.Requests, Is.Empty);
        Assert.That(dryOut, Does.Contain("Dry run: 2 runs: 2 to create"));

        var (code, output, err) = await RunAsync("--from=" + root, "--to=" + server.Url, "--experiment", "sync-exp");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("[1/2]").And.Contain("done").And.Contain("2 created"));
        Assert.That(server.Runs, Has.Count.EqualTo(2));

        var (again, againOut, _) = await RunAsync("--from", root, "--to", server.Url);
        Assert.That(again, Is.Zero);
        Assert.That(againOut, Does.Contain("2 up to date"));
        Directory.Delete(Path.GetDirectoryName(root)!, recursive: true);
    }

    [Test]
    public async Task UnknownExperiment_OrServerDown_ExitsOne()
    {
        var root = NewRoot();
        await SyncTests.BuildStoreAsync(root);
        using var server = new FakeMlflowServer();
        var (code, _, err) = await RunAsync("--from", root, "--to", server.Url, "--experiment", "nope");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("No active local experiment named 'nope'"));

        int closedPort;
        using (var gone = new FakeMlflowServer())
        {
            closedPort = new Uri(gone.Url).Port;
        }

        // The tool keeps MLflow's retry budget (about 4 minutes of backoff) by default; the variable shortens it here.
        var previous = Environment.GetEnvironmentVariable("MLFLOW_HTTP_REQUEST_MAX_RETRIES");
        Environment.SetEnvironmentVariable("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0");
        (int Code, string Out, string Err) downResult;
        try
        {
            downResult = await RunAsync("--from", root, "--to", $"http://127.0.0.1:{closedPort}");
        }
        finally
        {
            Environment.SetEnvironmentVariable("MLFLOW_HTTP_REQUEST_MAX_RETRIES", previous);
        }

        var (down, _, downErr) = downResult;
        Assert.That(down, Is.EqualTo(1));
        Assert.That(downErr, Does.Contain("did not answer"));
        Directory.Delete(Path.GetDirectoryName(root)!, recursive: true);
    }

    [Test]
    public async Task Main_InProcess_ReturnsTheExitCode()
    {
        Assert.That(await Program.Main(["--help"]), Is.Zero);
        Assert.That(await Program.Main(["--nonsense"]), Is.EqualTo(2));
    }
}
