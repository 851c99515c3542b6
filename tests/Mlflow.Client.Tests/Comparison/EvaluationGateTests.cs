using Mlflow.Client.Comparison;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Comparison;

public sealed class EvaluationGateTests
{
    private static readonly EvaluationGate Gate = new([new("f1_score", MetricGoal.Maximize, 0.01), new("log_loss", MetricGoal.Minimize, 0.05)]);

    [Test]
    public void A_candidate_within_tolerance_passes_with_exit_code_0()
    {
        var result = Gate.Compare(new Dictionary<string, double> { ["f1_score"] = 0.895, ["log_loss"] = 0.34 }, new Dictionary<string, double> { ["f1_score"] = 0.9, ["log_loss"] = 0.30 });

        Assert.That(result.Verdict, Is.EqualTo(GateVerdict.Pass));
        Assert.That(result.ExitCode, Is.Zero);
        Assert.That(result.Regressions, Is.Empty);
        Assert.That(result.CandidateWins, Is.False, "the primary metric is not better");
        Assert.That(result.Comparisons[0].Delta, Is.EqualTo(-0.005).Within(1e-12));
    }

    [Test]
    public void A_regression_beyond_tolerance_fails_with_exit_code_1_and_names_the_metric_and_delta()
    {
        var result = Gate.Compare(new Dictionary<string, double> { ["f1_score"] = 0.95, ["log_loss"] = 0.40 }, new Dictionary<string, double> { ["f1_score"] = 0.9, ["log_loss"] = 0.30 });

        Assert.That(result.Verdict, Is.EqualTo(GateVerdict.Regression));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Regressions.Select(r => r.Criterion.Metric), Is.EqualTo(new[] { "log_loss" }));
        Assert.That(result.Regressions[0].Delta, Is.EqualTo(0.10).Within(1e-12));
        Assert.That(result.CandidateWins, Is.False);
        Assert.That(result.ToString(), Does.Contain("log_loss: candidate 0.4, baseline 0.3, delta 0.1").And.Contain("REGRESSED").And.Contain("exit code 1"));
    }

    [Test]
    public void A_missing_or_nan_metric_makes_the_gate_incomplete_with_exit_code_2()
    {
        var missing = Gate.Compare(new Dictionary<string, double> { ["f1_score"] = 0.5 }, new Dictionary<string, double> { ["f1_score"] = 0.9, ["log_loss"] = 0.3 });
        var nan = Gate.Compare(new Dictionary<string, double> { ["f1_score"] = 0.95, ["log_loss"] = 0.3 }, new Dictionary<string, double> { ["f1_score"] = double.NaN, ["log_loss"] = 0.3 });

        Assert.That(missing.Verdict, Is.EqualTo(GateVerdict.Incomplete));
        Assert.That(missing.ExitCode, Is.EqualTo(2));
        Assert.That(missing.Missing.Select(m => m.Criterion.Metric), Is.EqualTo(new[] { "log_loss" }));
        Assert.That(missing.Regressions.Select(m => m.Criterion.Metric), Is.EqualTo(new[] { "f1_score" }), "regressions are still listed");
        Assert.That(nan.ExitCode, Is.EqualTo(2));
        Assert.That(nan.Missing.Select(m => m.Criterion.Metric), Is.EqualTo(new[] { "f1_score" }));
    }

    [Test]
    public void Invalid_criteria_are_refused()
    {
        Assert.Throws<ArgumentException>(() => _ = new EvaluationGate([]));
        Assert.Throws<ArgumentException>(() => _ = new EvaluationGate([new("a"), new("a")]));
        Assert.Throws<ArgumentException>(() => _ = new EvaluationGate([new("a", Tolerance: -1)]));
    }

    [Test]
    public async Task The_tracker_compares_two_runs_of_its_local_store()
    {
        using var dir = new OfflineFallbackTests.Dir();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "gate" });
        string baseline, candidate;
        await using (var run = tracker.StartRun("champion"))
        {
            baseline = run.RunId;
            run.LogMetric("f1_score", 0.80);
            run.LogMetric("log_loss", 0.30);
        }

        await using (var run = tracker.StartRun("candidate"))
        {
            candidate = run.RunId;
            run.LogMetric("f1_score", 0.85);
            run.LogMetric("log_loss", 0.31);
        }

        var result = await tracker.CompareRunsAsync(Gate, candidate, baseline);

        Assert.That(result.Verdict, Is.EqualTo(GateVerdict.Pass));
        Assert.That(result.CandidateWins, Is.True);
        Assert.That(result.BaselineRunId, Is.EqualTo(baseline));
        Assert.That(tracker.CompareRuns(Gate, baseline, candidate).ExitCode, Is.EqualTo(1), "the other way round f1 regressed by 0.05");

        // The alias gate on the local store's file registry: no model, then a model without the alias, are no baseline.
        Assert.That(tracker.CompareWithAlias(Gate, candidate, "m", "champion").NoBaseline, Is.True, "no registered model");
        var v1 = tracker.Registry.RegisterModel(baseline, "model", "m");
        Assert.That(tracker.CompareWithAlias(Gate, candidate, "m", "champion").NoBaseline, Is.True, "a model without the alias");
        tracker.Registry.SetAlias("m", "champion", v1.Version);
        var v2 = tracker.Registry.RegisterModel(candidate, "model", "m");
        var byAlias = tracker.CompareWithAlias(Gate, candidate, "m", "champion", v2.Version);
        Assert.That(byAlias.BaselineRunId, Is.EqualTo(baseline));
        Assert.That(byAlias.BaselineVersion, Is.EqualTo(v1.Version));
        Assert.That(byAlias.AliasMoved, Is.True);
        Assert.That(byAlias.ToString(), Does.Contain($"Alias moved: m@champion now points at version {v2.Version} (was version {v1.Version})."));
        Assert.That(tracker.Registry.GetVersionByAlias("m", "champion").Version, Is.EqualTo(v2.Version));
    }

    [Test]
    public async Task Against_a_server_alias_the_winner_takes_the_alias()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/alias").WithParam("name", "clf").WithParam("alias", "champion").UsingGet())
            .RespondWith(Response.Create().WithBody("{\"model_version\":{\"name\":\"clf\",\"version\":\"3\",\"run_id\":\"base\"}}"));
        StubRun(server, "base", 0.80, 0.30);
        StubRun(server, "cand", 0.86, 0.29);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/alias").UsingPost())
            .RespondWith(Response.Create().WithBody("{}"));
        using var client = server.CreateClient();

        var result = await client.CompareWithAliasAsync(Gate, "cand", "clf", "champion", candidateVersion: "4");

        Assert.That(result.Verdict, Is.EqualTo(GateVerdict.Pass));
        Assert.That(result.BaselineVersion, Is.EqualTo("3"));
        Assert.That(result.BaselineRunId, Is.EqualTo("base"));
        Assert.That(result.AliasMoved, Is.True);
        Assert.That(result.ToString(), Does.EndWith("Alias moved: clf@champion now points at version 4 (was version 3)." + Environment.NewLine));
        var set = server.Requests.Single(e => e.RequestMessage.Method == "POST");
        var body = FixtureServer.BodyJson(set)!;
        Assert.That(((string?)body["name"], (string?)body["alias"], (string?)body["version"]), Is.EqualTo(("clf", "champion", "4")));
    }

    [Test]
    public async Task Against_a_server_alias_a_loser_leaves_the_alias_and_a_missing_alias_lets_the_first_candidate_win()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/alias").WithParam("alias", "champion").UsingGet())
            .RespondWith(Response.Create().WithBody("{\"model_version\":{\"name\":\"clf\",\"version\":\"3\",\"run_id\":\"base\"}}"));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/alias").WithParam("alias", "nobody").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(404).WithBody("{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"alias not found\"}"));
        StubRun(server, "base", 0.80, 0.30);
        StubRun(server, "cand", 0.70, 0.29);
        using var client = server.CreateClient();

        var lost = await client.CompareWithAliasAsync(Gate, "cand", "clf", "champion", candidateVersion: "4");
        var first = await client.CompareWithAliasAsync(Gate, "cand", "clf", "nobody");

        Assert.That(lost.ExitCode, Is.EqualTo(1));
        Assert.That(lost.AliasMoved, Is.False);
        Assert.That(lost.ToString(), Does.EndWith("Alias not moved: clf@champion stays on version 3 (the candidate did not pass)." + Environment.NewLine));
        Assert.That(server.Requests.Any(e => e.RequestMessage.Method == "POST"), Is.False);
        Assert.That(first.NoBaseline, Is.True);
        Assert.That(first.Verdict, Is.EqualTo(GateVerdict.Pass));
        Assert.That(first.CandidateWins, Is.True);
        Assert.That(first.AliasMoved, Is.False, "no version given: the alias is never moved");
        Assert.That(first.ToString(), Does.Not.Contain("Alias"), "nothing to say about an alias the gate was not asked to move");
    }

    private static void StubRun(FixtureServer server, string id, double f1, double loss)
        => server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/get").WithParam("run_id", id).UsingGet())
            .RespondWith(Response.Create().WithBody(FormattableString.Invariant(
                $"{{\"run\":{{\"info\":{{\"run_id\":\"{id}\",\"experiment_id\":\"1\",\"status\":\"FINISHED\"}},\"data\":{{\"metrics\":[{{\"key\":\"f1_score\",\"value\":{f1},\"timestamp\":1,\"step\":0}},{{\"key\":\"log_loss\",\"value\":{loss},\"timestamp\":1,\"step\":0}}]}}}}}}")));
}
