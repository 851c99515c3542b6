using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Opt-in: our store writes, MLflow's own Python FileStore (the source tree named by <c>MLFLOW_SRC</c>, with the shims
/// of <c>MLFLOW_SHIMS</c>, the same variables as <c>tests/RealServer/mlflow-server.sh</c>; run with <c>/usr/bin/python3</c>)
/// reads the folder back, and every field must match. Ignored when <c>MLFLOW_SRC</c> is not set.
/// </summary>
[Category("RealServer")]
internal sealed class RealMlflowReadTests : FileStoreTestBase
{
    private static string MlflowSrc => Environment.GetEnvironmentVariable("MLFLOW_SRC") ?? "";

    private static string MlflowShims => Environment.GetEnvironmentVariable("MLFLOW_SHIMS") ?? "";

    [Test]
    public async Task Mlflow_reads_back_every_field_we_write()
    {
        RequireMlflow();
        var exp = await Store.CreateExperimentAsync("real: check #1 'q'", null, [new Tag("team", "dotnet"), new Tag("note", "multi\nline")], None);
        var run = await Store.CreateRunAsync(exp, null, 1_700_000_000_000, [new Tag("mlflow.user", "me"), new Tag("mlflow.source.type", "LOCAL")], "me", None);
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id,
        [
            new Metric("loss", 1.0, 1_700_000_000_001, 0), new Metric("loss", 1.0 / 3.0, 1_700_000_000_002, 1), new Metric("loss", 5e-05, 1_700_000_000_003, 2),
            new Metric("big", 1e16, 1, 0), new Metric("nf", double.NaN, 1, 0), new Metric("nf", double.PositiveInfinity, 2, 1), new Metric("nf", double.NegativeInfinity, 3, 2),
            new Metric("nested/deep/m", -0.0, 5, 7), new Metric("é unicode", 2.5, 6, 0),
        ],
        [new Param("lr", "5e-05"), new Param("p/nested", "x: y # z"), new Param("empty", ""), new Param("uni", "日本語 😀")],
        [new Tag("multi.line", "line one\nline two"), new Tag("quote", "'\"")], None);
        await Store.LogBatchAsync(id, [new Metric("loss", 1.0 / 3.0, 1_700_000_000_002, 1)], [], [], None);
        await Store.LogInputsAsync(id, [new DatasetInput { Tags = [new Tag("mlflow.data.context", "training")], Dataset = new Dataset { Name = "train", Digest = "d1", SourceType = "local", Source = "{\"uri\": \"/x\"}" } }], None);
        await Store.UpdateRunAsync(id, RunStatus.Failed, 1_700_000_001_000, null, None);
        var deletedRun = await Store.CreateRunAsync(exp, "gone", 1_700_000_000_500, null, "me", None);
        await Store.DeleteRunAsync(deletedRun.Info.RunId, None);
        var deletedExp = await Store.CreateExperimentAsync("deleted exp", null, null, None);
        await Store.DeleteExperimentAsync(deletedExp, None);

        var json = RunPython(Root);
        var experiments = json["experiments"]!.AsArray();
        Assert.That(experiments.Select(e => (string)e!["name"]!), Is.EquivalentTo(new[] { "Default", "real: check #1 'q'", "deleted exp" }));
        var e1 = experiments.Single(e => (string)e!["id"]! == exp)!;
        var ours = await Store.GetExperimentAsync(exp, None);
        Assert.That((string)e1["artifact_location"]!, Is.EqualTo(ours.ArtifactLocation));
        Assert.That((string)e1["lifecycle_stage"]!, Is.EqualTo("active"));
        Assert.That((string)e1["tags"]!["note"]!, Is.EqualTo("multi\nline"));
        Assert.That((string)experiments.Single(e => (string)e!["id"]! == deletedExp)!["lifecycle_stage"]!, Is.EqualTo("deleted"));

        var runs = json["runs"]!.AsArray();
        Assert.That(runs, Has.Count.EqualTo(2));
        foreach (var r in runs)
        {
            var runId = (string)r!["run_id"]!;
            var mine = await Store.GetRunAsync(runId, None);
            Assert.That((string)r["experiment_id"]!, Is.EqualTo(mine.Info.ExperimentId));
            Assert.That((string)r["run_name"]!, Is.EqualTo(mine.Info.RunName));
            Assert.That((string)r["status"]!, Is.EqualTo(FileStoreSearch.StatusText(mine.Info.Status)));
            Assert.That((string)r["lifecycle_stage"]!, Is.EqualTo(mine.Info.LifecycleStage == LifecycleStage.Deleted ? "deleted" : "active"));
            Assert.That((string?)r["user_id"], Is.EqualTo(mine.Info.UserId));
            Assert.That((long?)r["start_time"], Is.EqualTo(mine.Info.StartTime));
            Assert.That((long?)r["end_time"], Is.EqualTo(mine.Info.EndTime));
            Assert.That((string)r["artifact_uri"]!, Is.EqualTo(mine.Info.ArtifactUri));
            Assert.That(r["params"]!.AsObject().Select(kv => new Param(kv.Key, (string)kv.Value!)), Is.EquivalentTo(mine.Data.Params));
            Assert.That(r["tags"]!.AsObject().Select(kv => new Tag(kv.Key, (string)kv.Value!)), Is.EquivalentTo(mine.Data.Tags));
            Assert.That(r["metrics"]!.AsObject().Select(kv => kv.Key), Is.EquivalentTo(mine.Data.Metrics.Select(m => m.Key)));
            foreach (var m in mine.Data.Metrics)
            {
                Assert.That(Num(r["metrics"]![m.Key]!), Is.EqualTo(m.Value), m.Key);
                var theirs = r["history"]![m.Key]!.AsArray().Select(p => new Metric(m.Key, Num(p![1]!), (long)p[0]!, (long)p[2]!)).ToList();
                Assert.That(theirs, Is.EqualTo(await Store.GetMetricHistoryAsync(runId, m.Key, None)), m.Key);
            }
        }

        var main = runs.Single(r => (string)r!["run_id"]! == id)!;
        Assert.That((string)main["status"]!, Is.EqualTo("FAILED"));
        Assert.That(main["history"]!["loss"]!.AsArray(), Has.Count.EqualTo(4));
        Assert.That((string)main["tags"]!["mlflow.runName"]!, Is.EqualTo(run.Info.RunName));
        Assert.That((string)main["inputs"]![0]!["tags"]!["mlflow.data.context"]!, Is.EqualTo("training"));
        Assert.That((string)main["inputs"]![0]!["name"]!, Is.EqualTo("train"));
        Assert.That((string)runs.Single(r => (string)r!["run_id"]! == deletedRun.Info.RunId)!["lifecycle_stage"]!, Is.EqualTo("deleted"));
    }

    [Test]
    public async Task Mlflow_refuses_the_keys_we_refuse_and_reads_a_store_a_tracker_wrote_with_every_refused_shape_tried()
    {
        RequireMlflow();
        string[] refused = Tracking.KeyRuleTests.MlflowRefused;
        string[] accepted = [.. Tracking.KeyRuleTests.Awkward, .. Tracking.KeyRuleTests.NotStorable];
        var keysFile = Path.Combine(Parent, "keys.json");
        await File.WriteAllTextAsync(keysFile, new JsonArray([.. refused.Concat(accepted).Select(k => JsonValue.Create(k))]).ToJsonString());
        var checkScript = Path.Combine(Parent, "check_keys.py");
        await File.WriteAllTextAsync(checkScript, """
            import json, sys
            from mlflow.exceptions import MlflowException
            from mlflow.utils.validation import _validate_metric_name, _validate_param_name, _validate_tag_name
            out = {}
            for key in json.load(open(sys.argv[1], encoding="utf-8")):
                verdicts = []
                for check in (_validate_metric_name, _validate_param_name, _validate_tag_name):
                    try:
                        check(key)
                        verdicts.append(True)
                    except MlflowException:
                        verdicts.append(False)
                out[key] = verdicts
            json.dump(out, sys.stdout)
            """);
        var (code, stdout, stderr) = Python($"\"{checkScript}\" \"{keysFile}\"");
        Assert.That(code, Is.Zero, stderr);
        var verdicts = JsonNode.Parse(stdout)!.AsObject();
        foreach (var key in refused.Concat(accepted))
        {
            var theirs = verdicts[key]!.AsArray().Select(v => (bool)v!).ToArray();
            Assert.That(theirs, Is.EqualTo(Enumerable.Repeat(!refused.Contains(key), 3)), $"MLflow on '{key}'");
            Assert.That(MlflowValidation.IsValidKey(key, out _), Is.EqualTo(theirs[0]), $"we agree with MLflow on '{key}'");
        }

        string runId;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = Root, ExperimentName = "keys" }))
        {
            var run = tracker.StartRun("keys");
            runId = run.RunId;
            foreach (var key in refused.Concat(Tracking.KeyRuleTests.NotStorable))
            {
                Assert.Throws<MlflowValidationException>(() => run.LogMetric(key, 1, 0), key);
                Assert.Throws<MlflowValidationException>(() => run.LogParam(key, "v"), key);
                Assert.Throws<MlflowValidationException>(() => run.SetTag(key, "v"), key);
            }

            foreach (var key in Tracking.KeyRuleTests.Awkward)
            {
                run.LogMetric(key, 2.5, 3);
                run.LogParam(key, "v");
                run.SetTag(key, "v");
            }
        }

        var json = RunPython(Root); // MLflow's search_runs, get_run and get_metric_history over every experiment
        var theirRun = json["runs"]!.AsArray().Single(r => (string)r!["run_id"]! == runId)!;
        Assert.That(theirRun["metrics"]!.AsObject().Select(kv => kv.Key), Is.EquivalentTo(Tracking.KeyRuleTests.Awkward));
        Assert.That(theirRun["params"]!.AsObject().Select(kv => kv.Key), Is.EquivalentTo(Tracking.KeyRuleTests.Awkward));
        Assert.That(theirRun["tags"]!.AsObject().Select(kv => kv.Key).Where(k => !k.StartsWith("mlflow.", StringComparison.Ordinal)), Is.EquivalentTo(Tracking.KeyRuleTests.Awkward));
    }

    private static double Num(JsonNode node) => node.GetValueKind() == System.Text.Json.JsonValueKind.String
        ? ((string)node!) switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, var s => double.Parse(s, CultureInfo.InvariantCulture) }
        : (double)node;

    internal static void RequireMlflow()
    {
        if (MlflowSrc.Length == 0 || !File.Exists(Path.Combine(MlflowSrc, "mlflow", "version.py")) || !File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("Set MLFLOW_SRC (and MLFLOW_SHIMS) to an MLflow 2.12.2 source tree, see tests/RealServer/SETUP.md; /usr/bin/python3 is needed too.");
        }

        var (code, _, err) = Python("-c \"import mlflow.store.tracking.file_store\"");
        if (code != 0)
        {
            Assert.Ignore("MLflow does not import with /usr/bin/python3: " + err);
        }
    }

    private static JsonNode RunPython(string root)
    {
        var script = Path.Combine(Infrastructure.RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "FileStore", "read_with_mlflow.py");
        var (code, stdout, stderr) = Python($"\"{script}\" \"{root}\"");
        Assert.That(code, Is.Zero, stderr);
        return JsonNode.Parse(stdout)!;
    }

    internal static (int Code, string Stdout, string Stderr) Python(string args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["PYTHONPATH"] = MlflowSrc + Path.PathSeparator + MlflowShims;
        psi.Environment["GIT_PYTHON_REFRESH"] = "quiet";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("python timed out");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
